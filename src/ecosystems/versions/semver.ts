// SemVer 2.0.0 (https://semver.org/spec/v2.0.0.html) parsing and precedence, and the npm and Cargo dialects of it.
import { compareAscii, compareDigits, isDigits } from './numeric.js';

/** One pre-release identifier: numeric ones compare as integers of any size, the others as ASCII text (§11.4). */
export interface SemverIdentifier {
  readonly numeric: boolean;
  readonly text: string;
}

/** A parsed SemVer version; build metadata is dropped because precedence ignores it (§10). */
export interface Semver {
  /** Digit strings without leading zeros (the grammar forbids them). */
  readonly major: string;
  readonly minor: string;
  readonly patch: string;
  /** Empty for a release. */
  readonly pre: readonly SemverIdentifier[];
}

// The grammar of §2, §9 and §10, as the regular expression semver.org's FAQ suggests (numbered groups).
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$/;

/** node-semver refuses versions longer than this (internal/constants.js MAX_LENGTH). */
const NPM_MAX_LENGTH = 256;
/** node-semver refuses a major, minor or patch above Number.MAX_SAFE_INTEGER. */
const NPM_MAX_COMPONENT = '9007199254740991';
/** The semver crate stores major, minor and patch as u64. */
const CARGO_MAX_COMPONENT = '18446744073709551615';
/** What `semver.clean` strips before parsing: any run of '=' and 'v'. */
const NPM_PREFIX = /^[=v]+/;

/** Parses a SemVer 2.0.0 version exactly as the spec's grammar allows; undefined when it is not one. */
export function parseSemver(text: string, maxComponent?: string): Semver | undefined {
  const m = SEMVER.exec(text);
  if (m === null) return undefined;
  const [, major = '', minor = '', patch = '', pre] = m;
  if (maxComponent !== undefined && [major, minor, patch].some((n) => compareDigits(n, maxComponent) > 0)) {
    return undefined;
  }
  const identifiers =
    pre === undefined ? [] : pre.split('.').map((id) => Object.freeze({ numeric: isDigits(id), text: id }));
  return Object.freeze({ major, minor, patch, pre: Object.freeze(identifiers) });
}

/**
 * npm's versions as node-semver 7 reads what `semver.clean` accepts: whitespace, then any run of '=' and 'v', then
 * whitespace and one more 'v' are skipped; at most 256 characters; major/minor/patch at most 2^53-1; otherwise
 * strict SemVer 2.0.0. (Numeric pre-release identifiers compare exactly here; node-semver compares them as
 * doubles, which differs only beyond 2^53.)
 */
export function parseNpmVersion(text: string): Semver | undefined {
  const cleaned = text.trim().replace(NPM_PREFIX, '');
  if (cleaned.length > NPM_MAX_LENGTH) return undefined;
  const body = cleaned.trim();
  return parseSemver(body.charCodeAt(0) === 118 /* v */ ? body.slice(1) : body, NPM_MAX_COMPONENT);
}

/**
 * crates.io versions as the semver crate's `Version::parse` reads them: strict SemVer 2.0.0, u64 components.
 * The crate's `Ord` breaks ties on build metadata; precedence here ignores it (§10), which loses nothing, since
 * crates.io refuses versions that differ only in build metadata (rust-lang/crates.io#6518, May 2023).
 */
export function parseCargoVersion(text: string): Semver | undefined {
  return parseSemver(text, CARGO_MAX_COMPONENT);
}

/** SemVer 2.0.0 precedence (§11): major, minor, patch numerically, then pre-release; build metadata ignored. */
export function compareSemver(a: Semver, b: Semver): number {
  return (
    compareDigits(a.major, b.major) ||
    compareDigits(a.minor, b.minor) ||
    compareDigits(a.patch, b.patch) ||
    comparePrerelease(a.pre, b.pre)
  );
}

/** §11.3–11.4: a release outranks its pre-releases; identifiers compare in turn; a longer equal-prefixed set wins. */
function comparePrerelease(a: readonly SemverIdentifier[], b: readonly SemverIdentifier[]): number {
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 0 : a.length === 0 ? 1 : -1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as SemverIdentifier;
    const y = b[i] as SemverIdentifier;
    const c =
      x.numeric && y.numeric
        ? compareDigits(x.text, y.text)
        : x.numeric !== y.numeric
          ? x.numeric
            ? -1
            : 1
          : compareAscii(x.text, y.text);
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
