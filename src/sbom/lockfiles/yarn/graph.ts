// yarn.lock entries (classic or berry) + the project's package.json → ComponentGraph, as npm would install the tree.
import type { Digest } from '../../../core/digest.js';
import { npmPurl } from '../../../ecosystems/purl.js';
import { assembleGraph, type ComponentGraph, type ComponentHash, type InstalledPackage } from '../../graph.js';
import { type EdgeKind, yarnScopes } from './scope.js';

/** A dependency as an entry (or package.json) declares it; `descriptors` are tried in order against entry keys. */
export interface YarnDependency {
  readonly name: string;
  readonly descriptors: readonly string[];
  readonly kind: EdgeKind;
  /** Where the declaration is, for problems: `line 24: ["debug@4.3.4"].dependencies.ms`. */
  readonly where: string;
}

/** One yarn.lock entry, whatever format it was read from. */
export interface YarnEntry {
  /** The keys (descriptors) that resolve to this entry. */
  readonly descriptors: readonly string[];
  readonly name: string;
  /** '' when the lockfile does not know it (berry writes `0.0.0-use.local` for workspaces and links). */
  readonly version: string;
  readonly hashes: readonly ComponentHash[];
  readonly dependencies: readonly YarnDependency[];
  /** Peer dependencies (berry records them): provided by whoever depends on this entry. */
  readonly peers: readonly { readonly name: string; readonly optional: boolean }[];
  /** A workspace other than the root: the root depends on it, as npm's root depends on its workspaces. */
  readonly workspace: boolean;
  /** Berry: the workspace's directory (`workspace:packages/app`), and its dependencies' ranges as written there. */
  readonly workspaceDir?: string;
  readonly lockedRanges?: ReadonlyMap<string, string>;
  readonly where: string;
}

/** A lockfile read into entries, plus the root's dependencies (from package.json, as the lockfile spells them). */
export interface YarnLock {
  readonly entries: readonly YarnEntry[];
  readonly rootDependencies: readonly YarnDependency[];
  /**
   * What to do with entries the root cannot reach: berry's are patch bases (the patched entry is the same package)
   * and are left out; yarn 1 does not record workspaces, so its are workspaces' dependencies, which ship.
   */
  readonly unreached: 'omit' | 'runtime';
  readonly format: 'classic' | 'berry';
  /** The keys a workspace package's dependency (a range from its package.json) may be filed under. */
  readonly descriptorsOf: (dependent: { name: string; dir: string }, name: string, range: string) => string[];
  /** Constructs of package.json or the lockfile that Kiln does not read, each with where it is. */
  readonly unread: readonly string[];
}

/** A workspace package (or the root project, dir '.') with its dependencies from its package.json. */
export interface YarnProject {
  readonly dir: string;
  readonly name: string;
  readonly version: string;
  readonly dependencies: readonly YarnDependency[];
}

const ROOT = -1;

/**
 * Resolves every descriptor to the entry whose key list contains it, then builds the graph with npm's scopes.
 * Reports every descriptor listed twice and every required dependency that matches no entry.
 */
export function buildYarnGraph(
  lock: YarnLock,
  root: { name: string; version: string },
  lockfile: { path: string; digest: Digest },
): YarnGraphResult {
  const problems: string[] = [];
  const unreadable = [...lock.unread];
  const { entries } = lock;
  const index = indexEntries(entries, problems);
  const resolve = (deps: readonly YarnDependency[], fromLockfile: boolean) =>
    resolveAll(index, deps, fromLockfile && lock.format === 'berry' ? unreadable : problems);
  const edges = new Map<number, Map<string, { to: number; kind: EdgeKind }>>();
  edges.set(ROOT, resolve(lock.rootDependencies, false));
  entries.forEach((entry, i) => {
    edges.set(i, resolve(entry.dependencies, true));
    if (entry.workspace) edges.get(ROOT)?.set(`workspace:${i}`, { to: i, kind: 'prod' });
  });
  if (problems.length > 0 || unreadable.length > 0) return { problems, unreadable };
  addPeerEdges(entries, edges);

  const flat = new Map([...edges].map(([from, out]) => [from, [...out.values()]]));
  const scopes = yarnScopes(ROOT, entries.length, flat);
  const purls = entries.map((e) => npmPurl(e.name, e.version));
  const refs = (from: number) => (flat.get(from) ?? []).map((e) => purls[e.to] as string);
  const installed: InstalledPackage[] = [];
  entries.forEach((entry, i) => {
    const scope = scopes[i] ?? (lock.unreached === 'runtime' ? 'runtime' : undefined);
    if (scope === undefined) return;
    const { name, version, hashes } = entry;
    installed.push({ name, version, purl: purls[i] as string, scope, hashes, dependsOn: refs(i) });
  });
  const graphRoot = { ...root, ref: npmPurl(root.name, root.version) };
  const graph = assembleGraph({ root: graphRoot, rootDependsOn: refs(ROOT), installed, lockfile });
  return { graph, problems, unreadable };
}

/** A graph, or why there is none: `problems` with the user's files, `unreadable` constructs Kiln does not read. */
export interface YarnGraphResult {
  readonly graph?: ComponentGraph;
  readonly problems: readonly string[];
  readonly unreadable: readonly string[];
}

/** Out-edges by dependency name (peer edges are added under `peer:` keys). */
export type YarnEdges = Map<number, Map<string, { to: number; kind: EdgeKind }>>;

/** Entry index by each descriptor of its key; a descriptor listed twice is a problem. */
export function indexEntries(entries: readonly YarnEntry[], problems: string[]): Map<string, number> {
  const index = new Map<string, number>();
  entries.forEach((entry, i) => {
    for (const d of entry.descriptors) {
      const other = index.get(d);
      if (other === undefined) index.set(d, i);
      else problems.push(`${entry.where}: "${d}" is also the key of ${entries[other]?.where ?? 'another entry'}`);
    }
  });
  return index;
}

/**
 * Each dependency's entry: the first of its descriptors that is a key. A required one that matches none goes to
 * `missing` (a missing optional dependency is one yarn could not install: npm leaves it out too).
 */
export function resolveAll(
  index: ReadonlyMap<string, number>,
  deps: readonly YarnDependency[],
  missing: string[],
  fallback: (dep: YarnDependency) => number | undefined = () => undefined,
): Map<string, { to: number; kind: EdgeKind }> {
  const out = new Map<string, { to: number; kind: EdgeKind }>();
  for (const dep of deps) {
    const to = dep.descriptors.map((d) => index.get(d)).find((i) => i !== undefined) ?? fallback(dep);
    if (to !== undefined) out.set(dep.name, { to, kind: dep.kind });
    else if (dep.kind !== 'optional')
      missing.push(`${dep.where}: "${dep.descriptors[0]}" matches no entry of the lockfile`);
  }
  return out;
}

/**
 * Yarn gives each package the peers its dependent provides; npm installs them and records the edge. So an entry's
 * peer becomes an edge to the dependent's own dependency of that name, when the dependent has one (dependents that
 * provide different versions give one edge each, as npm's copies of the package merge into one component).
 */
export function addPeerEdges(entries: readonly YarnEntry[], edges: YarnEdges): void {
  for (const out of edges.values()) {
    for (const { to } of [...out.values()]) {
      const target = edges.get(to);
      for (const peer of entries[to]?.peers ?? []) {
        const provided = out.get(peer.name);
        if (provided === undefined || provided.to === to || target?.has(peer.name)) continue;
        target?.set(`peer:${peer.name}:${provided.to}`, { to: provided.to, kind: peer.optional ? 'optional' : 'prod' });
      }
    }
  }
}
