// PyPI versions: PEP 440 (packaging.python.org/en/latest/specifications/version-specifiers/) as pypa/packaging reads them.
import { compareAscii, compareDigits, isDigits, stripLeadingZeros } from './numeric.js';

/** A pre-release phase: a < b < rc (alpha, beta, c, pre and preview are spellings of these). */
type PrePhase = 0 | 1 | 2;

/** One local-version segment: numbers compare numerically and sort after words (PEP 440 "Local version identifiers"). */
interface LocalSegment {
  readonly numeric: boolean;
  /** Digits without leading zeros, or the lower-cased word. */
  readonly text: string;
}

/** A normalized PEP 440 version, shaped like packaging's `_cmpkey` so comparing is field by field. */
export interface Pep440Version {
  readonly epoch: string;
  /** Release numbers with trailing zeros removed, so 1.0 == 1.0.0. */
  readonly release: readonly string[];
  /** The pre-release, or 'before' for a bare dev release (1.0.dev0 < 1.0a0), 'after' for no pre-release. */
  readonly pre: 'before' | 'after' | { readonly phase: PrePhase; readonly n: string };
  /** undefined sorts before every post release. */
  readonly post: string | undefined;
  /** undefined sorts after every dev release. */
  readonly dev: string | undefined;
  /** undefined sorts before every local version. */
  readonly local: readonly LocalSegment[] | undefined;
}

// packaging's VERSION_PATTERN (src/packaging/version.py), anchored and with surrounding whitespace allowed as
// Version() allows it. The 'i' flag without 'u' folds ASCII letters only, so no non-ASCII letter matches.
// Groups: 1 epoch, 2 release, 3 pre letter, 4 pre number, 5 implicit post number, 6 post letter, 7 post number,
// 8 dev letter, 9 dev number, 10 local.
const PEP440 =
  /^\s*v?(?:(?:([0-9]+)!)?([0-9]+(?:\.[0-9]+)*)(?:[-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?([0-9]+)?)?(?:-([0-9]+)|[-_.]?(post|rev|r)[-_.]?([0-9]+)?)?(?:[-_.]?(dev)[-_.]?([0-9]+)?)?)(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$/i;
const LOCAL_SEPARATOR = /[-_.]/;

const PHASE: Readonly<Record<string, PrePhase>> = {
  a: 0,
  alpha: 0,
  b: 1,
  beta: 1,
  c: 2,
  rc: 2,
  pre: 2,
  preview: 2,
};

/** Parses and normalizes a PEP 440 version (case-insensitive, any spelling the spec allows); undefined if invalid. */
export function parsePep440(text: string): Pep440Version | undefined {
  const m = PEP440.exec(text);
  if (m === null) return undefined;
  const [, epoch = '0', release = '', preLetter, preN, postImplicit, postLetter, postN, devLetter, devN, local] = m;
  const numbers = release.split('.').map(stripLeadingZeros);
  let end = numbers.length;
  while (end > 0 && numbers[end - 1] === '0') end--;
  const post = postImplicit ?? (postLetter === undefined ? undefined : (postN ?? '0'));
  const dev = devLetter === undefined ? undefined : stripLeadingZeros(devN ?? '0');
  const pre =
    preLetter !== undefined
      ? Object.freeze({ phase: PHASE[preLetter.toLowerCase()] ?? 0, n: stripLeadingZeros(preN ?? '0') })
      : post === undefined && dev !== undefined
        ? 'before'
        : 'after';
  return Object.freeze({
    epoch: stripLeadingZeros(epoch),
    release: Object.freeze(numbers.slice(0, end)),
    pre,
    post: post === undefined ? undefined : stripLeadingZeros(post),
    dev,
    local: local === undefined ? undefined : Object.freeze(local.split(LOCAL_SEPARATOR).map(localSegment)),
  });
}

function localSegment(part: string): LocalSegment {
  return isDigits(part)
    ? Object.freeze({ numeric: true, text: stripLeadingZeros(part) })
    : Object.freeze({ numeric: false, text: part.toLowerCase() });
}

/** PEP 440 ordering: epoch, release, pre, post, dev, local, as packaging's `_cmpkey` tuples compare. */
export function comparePep440(a: Pep440Version, b: Pep440Version): number {
  return (
    compareDigits(a.epoch, b.epoch) ||
    compareList(a.release, b.release, compareDigits) ||
    comparePre(a.pre, b.pre) ||
    compareOptional(a.post, b.post, -1) ||
    compareOptional(a.dev, b.dev, 1) ||
    compareLocal(a.local, b.local)
  );
}

function comparePre(a: Pep440Version['pre'], b: Pep440Version['pre']): number {
  const rank = (p: Pep440Version['pre']) => (p === 'before' ? 0 : p === 'after' ? 2 : 1);
  const byRank = rank(a) - rank(b);
  if (byRank !== 0) return byRank < 0 ? -1 : 1;
  if (typeof a === 'string' || typeof b === 'string') return 0;
  return a.phase !== b.phase ? (a.phase < b.phase ? -1 : 1) : compareDigits(a.n, b.n);
}

/** Compares two optional numbers; `missing` is how an absent one compares with a present one. */
function compareOptional(a: string | undefined, b: string | undefined, missing: -1 | 1): number {
  if (a === undefined || b === undefined) {
    if (a === b) return 0;
    return a === undefined ? missing : missing === 1 ? -1 : 1;
  }
  return compareDigits(a, b);
}

function compareLocal(a: readonly LocalSegment[] | undefined, b: readonly LocalSegment[] | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  return compareList(a, b, (x, y) =>
    x.numeric && y.numeric
      ? compareDigits(x.text, y.text)
      : x.numeric !== y.numeric
        ? x.numeric
          ? 1
          : -1
        : compareAscii(x.text, y.text),
  );
}

/** Tuple order: element by element, then a shorter list (a prefix of the other) first. */
function compareList<T>(a: readonly T[], b: readonly T[], compare: (x: T, y: T) => number): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compare(a[i] as T, b[i] as T);
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
