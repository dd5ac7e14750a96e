// Version orders for OSV ranges: each ecosystem's own rules decide whether a version lies between two events.
import { parseGoVersion } from './go.js';
import { comparePep440, parsePep440 } from './pep440.js';
import { compareGemVersion, parseGemVersion } from './rubygems.js';
import { compareSemver, parseCargoVersion, parseNpmVersion, parseSemver } from './semver.js';

/** A total order over one ecosystem's version strings. */
export interface VersionOrder {
  /** Name of the scheme, e.g. 'npm', 'PyPI', 'Go', 'crates.io', 'SEMVER'. */
  readonly scheme: string;
  /** Negative, zero or positive as a sorts before, equal to, or after b; undefined when either is not a valid version of this scheme. */
  compare(a: string, b: string): number | undefined;
}

/** Parsed versions kept per order; past this many the cache starts over, so memory stays bounded. */
const CACHE_LIMIT = 8192;
/** Longer strings are parsed every time rather than pinned in the cache. */
const CACHE_MAX_KEY = 256;

/** Wraps a scheme's parser and comparator into a VersionOrder that parses each distinct string once. */
function cachedOrder<T>(
  scheme: string,
  parse: (text: string) => T | undefined,
  compareParsed: (a: T, b: T) => number,
): VersionOrder {
  const cache = new Map<string, T | null>();
  const lookup = (text: string): T | undefined => {
    if (typeof text !== 'string') return undefined;
    const hit = cache.get(text);
    if (hit !== undefined) return hit ?? undefined;
    const parsed = parse(text);
    if (text.length <= CACHE_MAX_KEY) {
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(text, parsed ?? null);
    }
    return parsed;
  };
  return Object.freeze({
    scheme,
    compare(a: string, b: string): number | undefined {
      const x = lookup(a);
      const y = x === undefined ? undefined : lookup(b);
      if (x === undefined || y === undefined) return undefined;
      const c = compareParsed(x, y);
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    },
  });
}

/**
 * The order for OSV ranges of type SEMVER: SemVer 2.0.0, as the OSV schema defines them, plus one tolerance: a
 * leading 'v', so Go's `v1.2.3` (SEMVER is how OSV's Go records range) compares with OSV's `1.2.3`. Partial
 * versions ("1.2") and other lenient spellings are refused (undefined) rather than guessed at, unlike
 * osv-scanner: "0" read as 0.0.0 would sort *after* 0.0.0-pre-releases. OSV's `introduced: "0"` is therefore
 * not a version here; callers read it as "before every version", as the schema says.
 */
export const SEMVER_ORDER: VersionOrder = cachedOrder(
  'SEMVER',
  (text) => parseSemver(text.charCodeAt(0) === 118 /* v */ ? text.slice(1) : text),
  compareSemver,
);

const ORDERS: ReadonlyMap<string, VersionOrder> = new Map([
  ['npm', cachedOrder('npm', parseNpmVersion, compareSemver)],
  ['PyPI', cachedOrder('PyPI', parsePep440, comparePep440)],
  ['Go', cachedOrder('Go', parseGoVersion, compareSemver)],
  ['crates.io', cachedOrder('crates.io', parseCargoVersion, compareSemver)],
  ['RubyGems', cachedOrder('RubyGems', parseGemVersion, compareGemVersion)],
]);

/**
 * The order for an OSV ecosystem name, spelt as OSV spells it ('npm', 'PyPI', 'Go', 'crates.io', 'RubyGems');
 * undefined for any other ecosystem (Maven, NuGet, Debian, …), which Kiln cannot order yet.
 */
export function versionOrderFor(ecosystem: string): VersionOrder | undefined {
  return ORDERS.get(ecosystem);
}
