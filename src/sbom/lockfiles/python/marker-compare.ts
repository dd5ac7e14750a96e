// How a marker compares two values: PEP 440 versions where the spec types a variable Version, else strings.
import { stripLeadingZeros } from '../../../ecosystems/versions/numeric.js';
import { comparePep440, type Pep440Version, parsePep440 } from '../../../ecosystems/versions/pep440.js';

/** A marker comparison operator. */
export type MarkerOp = '<' | '<=' | '==' | '!=' | '>=' | '>' | '~=' | '===' | 'in' | 'not in';

/**
 * `lhs op rhs` as packaging 26 evaluates it (markers.py `_eval_op`): a version variable against a valid specifier
 * `op rhs` is a PEP 440 test of lhs; otherwise strings, where `<=`/`>=` mean `==` and `<`/`>` are false.
 * `~=`/`===` between non-versions are undefined (packaging raises): unknown, so what they guard is kept.
 */
export function compareMarkerValues(lhs: string, op: MarkerOp, rhs: string, versioned: boolean): boolean | 'unknown' {
  const spec = versioned ? versionSpec(op, rhs) : undefined;
  if (spec !== undefined) return specContains(spec, lhs);
  switch (op) {
    case 'in':
      return rhs.includes(lhs);
    case 'not in':
      return !rhs.includes(lhs);
    case '==':
    case '<=':
    case '>=':
      return lhs === rhs;
    case '!=':
      return lhs !== rhs;
    case '<':
    case '>':
      return false;
    case '~=':
    case '===':
      return 'unknown';
  }
}

/** A version specifier `op version` (PEP 440 "Version specifiers"); `version` is undefined for `==1.0.*` and `===`. */
export interface VersionSpec {
  readonly op: MarkerOp;
  readonly text: string;
  readonly version: Pep440Version | undefined;
  /** Epoch and release numbers as written: the prefix of `==1.0.*`, and `~=`'s. */
  readonly epoch: string;
  readonly release: readonly string[];
}

const WILDCARD_RE = /^\s*v?(?:([0-9]+)!)?([0-9]+(?:\.[0-9]+)*)\.\*\s*$/i;
const RELEASE_RE = /^\s*v?(?:([0-9]+)!)?([0-9]+(?:\.[0-9]+)*)/i;

/** `op text` if packaging's Specifier accepts it (its `_regex`), else undefined (then strings are compared). */
export function versionSpec(op: MarkerOp, text: string): VersionSpec | undefined {
  if (op === 'in' || op === 'not in') return undefined;
  if (op === '===') {
    const ok = /^\s*[^\s;)]*\s*$/.test(text);
    return ok ? { op, text: text.trim(), version: undefined, epoch: '0', release: [] } : undefined;
  }
  const wildcard = WILDCARD_RE.exec(text);
  if (wildcard !== null) {
    const release = (wildcard[2] ?? '').split('.');
    return op === '==' || op === '!='
      ? { op, text, version: undefined, epoch: wildcard[1] ?? '0', release }
      : undefined;
  }
  const version = parsePep440(text);
  const m = RELEASE_RE.exec(text);
  const release = m?.[2]?.split('.') ?? [];
  if (version === undefined || (version.local !== undefined && op !== '==' && op !== '!=')) return undefined;
  if (op === '~=' && release.length < 2) return undefined;
  return { op, text, version, epoch: m?.[1] ?? '0', release };
}

/** Whether `lhs` satisfies `spec`, pre-releases allowed: packaging 26.2's `Specifier.contains(lhs, True)`. */
function specContains(spec: VersionSpec, lhs: string): boolean {
  if (spec.op === '===') return lhs.toLowerCase() === spec.text.toLowerCase(); // the strings, neither parsed
  const v = parsePep440(lhs);
  if (v === undefined) return false; // packaging 22+: a value that is no version matches no specifier
  const s = spec.version;
  const publicV = { ...v, local: undefined };
  if (s === undefined) return hasPrefix(v, spec.epoch, spec.release) === (spec.op === '==');
  switch (spec.op) {
    case '==':
      return comparePep440(s.local ? v : publicV, s) === 0; // 3.8+local == 3.8: a local label is ignored unless named
    case '!=':
      return comparePep440(s.local ? v : publicV, s) !== 0;
    case '<=':
      return comparePep440(publicV, s) <= 0;
    case '>=':
      return comparePep440(publicV, s) >= 0;
    case '<': // no pre-release of the version named, unless that is one: <3.1 excludes 3.1.dev0 and 3.1rc1
      return comparePep440(v, s) < 0 && !(!isPre(s) && isPre(v) && comparePep440(v, replaced(s, s.post, '0')) >= 0);
    case '>': // no post-release or local version of the version named: >3.1 excludes 3.1.post0 and 3.1+x
      return (
        comparePep440(v, s) > 0 &&
        !(s.post === undefined && v.post !== undefined && comparePep440(replaced(v, undefined, undefined), s) === 0) &&
        !(v.local !== undefined && comparePep440(publicV, s) === 0)
      );
    case '~=': // ~=2.2.post3 is >=2.2.post3 and ==2.*
      return comparePep440(publicV, s) >= 0 && hasPrefix(v, spec.epoch, spec.release.slice(0, -1));
    default:
      return false;
  }
}

/** `==epoch!release.*`: same epoch, and the release numbers, padded with zeros, start with these. */
function hasPrefix(v: Pep440Version, epoch: string, release: readonly string[]): boolean {
  return (
    stripLeadingZeros(epoch) === v.epoch && release.every((n, i) => stripLeadingZeros(n) === (v.release[i] ?? '0'))
  );
}

function isPre(v: Pep440Version): boolean {
  return typeof v.pre === 'object' || v.dev !== undefined;
}

/** `v` with these post and dev numbers and no local label (packaging's `Version.__replace__`). */
function replaced(v: Pep440Version, post: string | undefined, dev: string | undefined): Pep440Version {
  const pre = typeof v.pre === 'object' ? v.pre : post === undefined && dev !== undefined ? 'before' : 'after';
  return { ...v, pre, post, dev, local: undefined };
}
