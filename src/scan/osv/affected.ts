// Whether one OSV `affected` entry covers a version: explicit versions, then SEMVER/ECOSYSTEM ranges per the spec.
import { baseEcosystem } from '../../ecosystems/ecosystem.js';
import { SEMVER_ORDER, type VersionOrder, versionOrderFor } from '../../ecosystems/versions/order.js';
import type { OsvAffected, OsvEvent, OsvRange } from './types.js';

/** The answer for one version: affected or not, the fixes above it, and ranges that could not be ordered. */
export interface AffectedAnswer {
  readonly affected: boolean;
  /** The lowest `fixed` version above this one in each range that affects it. */
  readonly fixedIn: readonly string[];
  /** Why a range was left out (its versions are not versions of the ecosystem, or Kiln cannot order it). */
  readonly unordered: readonly string[];
}

/**
 * Evaluates the OSV algorithm (https://ossf.github.io/osv-schema/#evaluation): listed in `versions`, or inside a
 * SEMVER/ECOSYSTEM range that it is below a `limit` of (any of them; "*" is infinity; no limit is "*"), and whose
 * other events, sorted by version, leave it introduced and not yet fixed (`fixed` ≤ v or `last_affected` < v end
 * it). GIT ranges order commits, not versions: `versions` lists them.
 */
export function affectsVersion(entry: OsvAffected, ecosystem: string, version: string): AffectedAnswer {
  const fixedIn = new Set<string>();
  const unordered: string[] = [];
  let affected = (entry.versions ?? []).includes(version);
  for (const range of entry.ranges ?? []) {
    if (range.type === 'GIT') continue;
    const order = range.type === 'SEMVER' ? SEMVER_ORDER : versionOrderFor(baseEcosystem(ecosystem));
    if (!order) {
      unordered.push(`Kiln cannot order ${ecosystem} versions`);
      continue;
    }
    const answer = inRange(range, order, version);
    if (answer.kind === 'unordered') unordered.push(answer.why);
    else if (answer.kind === 'affected') {
      affected = true;
      if (answer.fixed) fixedIn.add(answer.fixed);
    }
  }
  return { affected, fixedIn: [...fixedIn].sort(), unordered };
}

type RangeAnswer =
  | { kind: 'affected'; fixed: string | undefined }
  | { kind: 'not-affected' }
  | { kind: 'unordered'; why: string };

function inRange(range: OsvRange, order: VersionOrder, version: string): RangeAnswer {
  // "Every version, never fixed" needs no ordering: it affects whatever the version looks like.
  if (range.events.every((e) => 'introduced' in e && e.introduced === '0'))
    return { kind: 'affected', fixed: undefined };
  if (order.compare(version, version) === undefined) {
    return { kind: 'unordered', why: `"${version}" is not a ${order.scheme} version` };
  }
  const events: { type: 'introduced' | 'fixed' | 'last_affected' | 'limit'; at: string }[] = range.events.map(eventOf);
  for (const e of events) {
    const special = (e.type === 'introduced' && e.at === '0') || (e.type === 'limit' && e.at.includes('*'));
    if (!special && order.compare(e.at, e.at) === undefined) {
      return { kind: 'unordered', why: `event ${e.type} "${e.at}" is not a ${order.scheme} version` };
    }
  }
  const cmp = (a: string, b: string) => (a === '0' ? (b === '0' ? 0 : -1) : b === '0' ? 1 : (order.compare(a, b) ?? 0));
  // BeforeLimits: limits bound the whole range, exclusively, apart from the timeline of the other events.
  const limits = events.filter((e) => e.type === 'limit');
  if (limits.length > 0 && !limits.some((e) => e.at.includes('*') || cmp(version, e.at) < 0)) {
    return { kind: 'not-affected' };
  }
  const timeline = events.map((e, i) => ({ ...e, i })).filter((e) => e.type !== 'limit');
  const sorted = timeline.sort((a, b) => cmp(a.at, b.at) || a.i - b.i);
  let affected = false;
  let fixed: string | undefined;
  for (const e of sorted) {
    const c = cmp(version, e.at);
    if (e.type === 'introduced' && (e.at === '0' || c >= 0)) {
      affected = true;
      fixed = undefined;
    } else if (e.type === 'fixed' && c >= 0) affected = false;
    else if (e.type === 'last_affected' && c > 0) affected = false;
    // The first fix above the version, after the introduction that affects it, is the upgrade to suggest.
    if (affected && e.type === 'fixed' && c < 0 && fixed === undefined) fixed = e.at;
  }
  return affected ? { kind: 'affected', fixed } : { kind: 'not-affected' };
}

function eventOf(event: OsvEvent): { type: 'introduced' | 'fixed' | 'last_affected' | 'limit'; at: string } {
  if ('introduced' in event) return { type: 'introduced', at: event.introduced };
  if ('fixed' in event) return { type: 'fixed', at: event.fixed };
  if ('last_affected' in event) return { type: 'last_affected', at: event.last_affected };
  return { type: 'limit', at: event.limit };
}
