// Which platform-specific optional packages npm installs: os/cpu/libc checks and the optional set npm then skips.
import { hostPlatform } from '../../../platform/processes.js';

/** The platform a build installs for, in npm's terms (`process.platform`, `process.arch`, libc family). */
export interface NpmPlatform {
  readonly os: string;
  readonly cpu: string;
  /** 'glibc' or 'musl' on Linux; undefined elsewhere or when unknown (then no `libc`-restricted package matches). */
  readonly libc?: string | undefined;
}

/** The `os`/`cpu`/`libc` restrictions of a lockfile entry, copied there from the package's package.json. */
export interface PlatformRestrictions {
  readonly os?: string | readonly string[] | undefined;
  readonly cpu?: string | readonly string[] | undefined;
  readonly libc?: string | readonly string[] | undefined;
}

/** One resolved dependency edge between lockfile locations; `optional` as npm's edge types say (optional, peerOptional). */
export interface LocationEdge {
  readonly to: string;
  readonly optional: boolean;
}

/** The platform this process runs on, in npm's terms: the production default. */
export function hostNpmPlatform(): NpmPlatform {
  return hostPlatform();
}

/** npm-install-checks' checkPlatform: every restriction present must match; a missing libc matches no `libc` list. */
export function platformMatches(target: PlatformRestrictions, platform: NpmPlatform): boolean {
  const listOk = (value: string | undefined, list: string | readonly string[] | undefined) =>
    list === undefined || (value !== undefined && matchesList(value, typeof list === 'string' ? [list] : list));
  return listOk(platform.os, target.os) && listOk(platform.cpu, target.cpu) && listOk(platform.libc, target.libc);
}

/** `["any"]` matches all; a `!x` that equals the value fails; otherwise any positive match, or only negations. */
function matchesList(value: string, list: readonly string[]): boolean {
  if (list.length === 1 && list[0] === 'any') return true;
  let negated = 0;
  let match = false;
  for (const item of list) {
    if (item.startsWith('!')) {
      negated++;
      if (item.slice(1) === value) return false;
    } else if (item === value) match = true;
  }
  return match || negated === list.length;
}

/**
 * The locations npm leaves out on `platform`: each optional package whose os/cpu/libc do not match, with its
 * optional set as arborist computes it (dependents reached over non-optional edges, and dependencies nothing
 * outside the set needs). `edges` holds every location's resolved edges, the root's ('') included.
 */
export function locationsSkippedOnPlatform(
  optionalEntries: ReadonlyMap<string, PlatformRestrictions>,
  edges: ReadonlyMap<string, readonly LocationEdge[]>,
  platform: NpmPlatform,
): Set<string> {
  const edgesIn = new Map<string, { from: string; optional: boolean }[]>();
  for (const [from, out] of edges) {
    for (const e of out) {
      const list = edgesIn.get(e.to) ?? [];
      list.push({ from, optional: e.optional });
      edgesIn.set(e.to, list);
    }
  }
  const skipped = new Set<string>();
  for (const [location, restrictions] of optionalEntries) {
    if (skipped.has(location) || platformMatches(restrictions, platform)) continue;
    for (const l of optionalSet(location, edgesIn, edges, skipped)) skipped.add(l);
  }
  return skipped;
}

/** arborist's optionalSet + gatherDepSet over locations; the root is never part of it. */
function optionalSet(
  failed: string,
  edgesIn: ReadonlyMap<string, readonly { from: string; optional: boolean }[]>,
  edgesOut: ReadonlyMap<string, readonly LocationEdge[]>,
  skipped: ReadonlySet<string>,
): Set<string> {
  const set = new Set([failed]);
  for (const l of set) {
    for (const e of edgesIn.get(l) ?? []) if (!e.optional && e.from !== '') set.add(e.from);
  }
  const counts = (from: string, to: string) => !set.has(to) && !skipped.has(from);
  const deps = new Set(set);
  for (const l of deps) {
    for (const e of edgesOut.get(l) ?? []) if (counts(l, e.to)) deps.add(e.to);
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (const dep of deps) {
      if ((edgesIn.get(dep) ?? []).some((e) => !deps.has(e.from) && counts(e.from, dep))) {
        deps.delete(dep);
        changed = true;
      }
    }
  }
  return deps;
}
