// One workspace package of an npm lockfile → its own graph: what it ships and what builds it, not the whole tree's.
import type { Digest } from '../../../core/digest.js';
import { npmPurl } from '../../../ecosystems/purl.js';
import { assembleGraph, type ComponentGraph, type InstalledPackage } from '../../graph.js';
import { dependencyFlags, type KindedEdge } from '../pnpm/dep-flags.js';
import { dependencyNames, licenseOf, type NpmInstallTree, type PlacedTree, packageName } from './lock-graph.js';
import type { NpmLockEntry } from './lockfile-schema.js';
import { resolveDependency } from './resolve.js';

/**
 * The graph of the package at `location` ('' for the root project): its dependencies, its own devDependencies (dev
 * scope), and what they need in turn, resolved from its folder as Node resolves them. Scopes are computed from this
 * package, not read from the lockfile's flags (which are the whole tree's). A workspace package it depends on (a
 * `node_modules/<name>` link) is a component with its runtime and optional dependencies; its devDependencies build
 * it, not this package, as `npm ls --omit=dev -w <package>` leaves them out. Packages skipped on this platform stay out.
 */
export function importerGraph(
  tree: NpmInstallTree,
  { placed, skipped, problems }: PlacedTree,
  location: string,
  lockfile: { path: string; digest: Digest },
): { graph?: ComponentGraph; problems: string[] } {
  if (problems.length > 0) return { problems };
  const own = location === '' ? tree.packages.get('') : placed.get(location)?.entry;
  if (own === undefined) return { problems: [`${tree.where(location)}: no such workspace package in the lockfile`] };
  // Only what the package reaches: each package of a workspace is read from the same placed tree.
  const edges = new Map<string, KindedEdge[]>([[location, kindedEdges(tree.packages, location, own, true, skipped)]]);
  for (const at of edges.keys()) {
    for (const { to } of edges.get(at) ?? []) {
      const entry = placed.get(to)?.entry;
      if (entry !== undefined && !edges.has(to)) edges.set(to, kindedEdges(tree.packages, to, entry, false, skipped));
    }
  }
  const flags = dependencyFlags(edges, location);
  const purlOf = (at: string) => {
    const entry = placed.get(at)?.entry ?? {};
    return npmPurl(packageName(at, entry), entry.version ?? '');
  };
  const refs = (at: string) => (edges.get(at) ?? []).filter((e) => e.to !== location).map((e) => purlOf(e.to));
  const installed: InstalledPackage[] = [];
  for (const [at, f] of flags) {
    const p = placed.get(at);
    if (at === location || p === undefined) continue;
    installed.push({
      name: packageName(at, p.entry),
      version: p.entry.version ?? '',
      purl: purlOf(at),
      scope: f.scope,
      hashes: p.hashes,
      license: licenseOf(p.entry.license),
      dependsOn: refs(at),
    });
  }
  const name = location === '' ? (tree.rootName ?? '') : packageName(location, own);
  const version = location === '' ? tree.rootVersion : (own.version ?? '');
  const root = { name, version, ref: npmPurl(name, version) };
  return { graph: assembleGraph({ root, rootDependsOn: refs(location), installed, lockfile }), problems: [] };
}

/** The edges of the package at `at` by kind; devDependencies only for the package described. */
function kindedEdges(
  packages: ReadonlyMap<string, NpmLockEntry>,
  at: string,
  entry: NpmLockEntry,
  described: boolean,
  skipped: ReadonlySet<string>,
): KindedEdge[] {
  const dev = new Set(described ? Object.keys(entry.devDependencies ?? {}) : []);
  const prod = new Set([...Object.keys(entry.dependencies ?? {}), ...Object.keys(entry.peerDependencies ?? {})]);
  const out: KindedEdge[] = [];
  for (const { name, optional } of dependencyNames(entry, described)) {
    const r = resolveDependency(packages, at, name);
    if (r.kind !== 'found' || skipped.has(r.location)) continue; // a missing one was reported when the tree was read
    const kind = optional ? 'optional' : dev.has(name) && !prod.has(name) ? 'dev' : 'prod';
    out.push({ to: r.location, kind });
  }
  return out;
}
