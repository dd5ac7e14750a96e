// yarn.lock entries + every workspace's package.json → the graph of one workspace package: what it ships and builds with.
import type { Digest } from '../../../core/digest.js';
import { npmPurl } from '../../../ecosystems/purl.js';
import { assembleGraph, type InstalledPackage } from '../../graph.js';
import { rememberLast } from '../last-read.js';
import {
  addPeerEdges,
  indexEntries,
  resolveAll,
  type YarnDependency,
  type YarnEdges,
  type YarnGraphResult,
  type YarnLock,
  type YarnProject,
} from './graph.js';
import { yarnScopes } from './scope.js';

/**
 * The graph of workspace `importer` ('.' for the root project): its dependencies, dev ones included (dev scope), and
 * what they need in turn. A workspace package it depends on is a component (name and version from its package.json)
 * that brings its runtime and optional dependencies, not its devDependencies: those build that package, not this
 * one, as `yarn workspaces focus --production` and pnpm leave them out. Workspaces the importer does not reach are
 * not in its graph. Berry files a workspace under `name@workspace:<dir>`; yarn 1 does not record workspaces, so a
 * dependency that matches no entry is the workspace package of that name.
 */
export function buildYarnWorkspaceGraph(
  lock: YarnLock,
  projects: readonly YarnProject[],
  importer: string,
  lockfile: { path: string; digest: Digest },
): YarnGraphResult {
  const { entries } = lock;
  const indexed = entryIndex(entries);
  const { index } = indexed;
  const problems = [...indexed.problems];
  const unreadable = [...lock.unread];
  const first = entries.length;
  const projectAt = new Map(projects.map((p, i) => [p.dir, first + i]));
  const projectNamed = new Map(projects.map((p, i) => [p.name, first + i]));
  // A workspace's entry (berry's, or yarn 1's unrecorded folder) stands for its project node.
  const node = (i: number) => {
    const entry = entries[i];
    if (entry?.workspace !== true) return i;
    const at = entry.workspaceDir === undefined ? projectNamed.get(entry.name) : projectAt.get(entry.workspaceDir);
    return at ?? i;
  };
  const fallback = (dep: YarnDependency) => (lock.format === 'classic' ? projectNamed.get(dep.name) : undefined);
  const edgesOf = (deps: readonly YarnDependency[], missing: string[]) => {
    const out = resolveAll(index, deps, missing, fallback);
    for (const edge of out.values()) edge.to = node(edge.to);
    return out;
  };
  const outOf = (i: number) => {
    const p = projects[i - first];
    if (p === undefined) return edgesOf(entries[i]?.dependencies ?? [], lockMissing(lock, problems, unreadable));
    return edgesOf(p.dir === importer ? p.dependencies : p.dependencies.filter((d) => d.kind !== 'dev'), problems);
  };
  const root = projectAt.get(importer);
  if (root === undefined) return { problems: [...problems, `no workspace package in ${importer}`], unreadable };
  // Only what the importer reaches: each package of a workspace is read from the same entries.
  const edges: YarnEdges = new Map([[root, outOf(root)]]);
  for (const out of edges.values()) {
    for (const { to } of out.values()) if (!edges.has(to)) edges.set(to, outOf(to));
  }
  if (problems.length > 0 || unreadable.length > 0) return { problems, unreadable };
  addPeerEdges(entries, edges);

  const flat = new Map([...edges].map(([from, out]) => [from, [...out.values()]]));
  const scopes = yarnScopes(root, first + projects.length, flat);
  const identity = (i: number) => entries[i] ?? projects[i - first] ?? { name: '', version: '' };
  const purl = (i: number) => npmPurl(identity(i).name, identity(i).version);
  const refs = (from: number) => (flat.get(from) ?? []).map((e) => purl(e.to));
  const installed: InstalledPackage[] = [];
  for (let i = 0; i < first + projects.length; i++) {
    const scope = scopes[i];
    if (scope === undefined || i === root) continue;
    const { name, version } = identity(i);
    const hashes = entries[i]?.hashes ?? [];
    installed.push({ name, version, purl: purl(i), scope, hashes, dependsOn: refs(i) });
  }
  const { name, version } = identity(root);
  const graph = assembleGraph({
    root: { name, version, ref: purl(root) },
    rootDependsOn: refs(root),
    installed,
    lockfile,
  });
  return { graph, problems, unreadable };
}

/** The entries by descriptor, and the descriptors listed twice: the same for every package, so made once. */
const entryIndex = rememberLast((entries: YarnLock['entries']) => {
  const problems: string[] = [];
  return {
    index: indexEntries(entries, problems) as ReadonlyMap<string, number>,
    problems: problems as readonly string[],
  };
});

/** Where an entry's unresolved dependency is reported: berry writes every resolution, so one it lacks is Kiln's gap. */
function lockMissing(lock: YarnLock, problems: string[], unreadable: string[]): string[] {
  return lock.format === 'berry' ? unreadable : problems;
}
