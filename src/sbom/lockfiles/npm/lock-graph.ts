// npm install trees (any lockfile version, laid out as v2/v3 locations) → ComponentGraph, edges resolved as Node would.
import type { Digest } from '../../../core/digest.js';
import { npmPurl } from '../../../ecosystems/purl.js';
import { assembleGraph, type ComponentGraph, type ComponentScope, type InstalledPackage } from '../../graph.js';
import { integrityToHashes } from '../integrity.js';
import type { NpmLockEntry } from './lockfile-schema.js';
import { type LocationEdge, locationsSkippedOnPlatform, type NpmPlatform } from './platform.js';
import { dependencyResolver, followLink, isTopLocation, workspaceMatcher } from './resolve.js';

/** A validated lockfile as `packages` locations (`node_modules/a/node_modules/b`), whatever version it was written in. */
export interface NpmInstallTree {
  readonly rootName: string | undefined;
  readonly rootVersion: string;
  /** Where the root's name is read from, to name it when it is missing. */
  readonly rootNamePath: string;
  /** Location → entry; '' is the root project, whose dependencies say which packages are direct. */
  readonly packages: ReadonlyMap<string, NpmLockEntry>;
  /** How problems name a location: `packages["node_modules/a"]` (v2/v3), `dependencies.a.dependencies.b` (v1). */
  readonly where: (location: string) => string;
}

/** A package installed at a location, with its resolved edges. */
export interface Placed {
  readonly entry: NpmLockEntry;
  readonly edges: readonly LocationEdge[];
  readonly hashes: InstalledPackage['hashes'];
}

/**
 * Builds the graph of what npm installs from `tree` on `platform` (asked only when some optional entry has
 * os/cpu/libc restrictions): skipped optional packages and the edges to them are left out. Reports every problem.
 */
export function buildNpmGraph(
  tree: NpmInstallTree,
  lockfile: { path: string; digest: Digest },
  platform: () => NpmPlatform,
): { graph?: ComponentGraph; problems: string[] } {
  const { placed, rootEdges, skipped, problems } = placeTree(tree, platform);
  if (problems.length > 0 || tree.rootName === undefined) return { problems };
  const purls = new Map<string, string>(); // each location's purl, written once however many edges lead to it
  const purlOf = (location: string) => {
    let purl = purls.get(location);
    if (purl === undefined) {
      const entry: NpmLockEntry = placed.get(location)?.entry ?? {};
      purl = npmPurl(packageName(location, entry), entry.version ?? '');
      purls.set(location, purl);
    }
    return purl;
  };
  const refs = (edges: readonly LocationEdge[]) =>
    edges.filter((e) => placed.has(e.to) && !skipped.has(e.to)).map((e) => purlOf(e.to)); // not a link to the root
  const installed: InstalledPackage[] = [];
  for (const [location, { entry, edges, hashes }] of placed) {
    if (skipped.has(location)) continue;
    installed.push({
      name: packageName(location, entry),
      version: entry.version ?? '',
      purl: purlOf(location),
      scope: scopeOf(entry),
      hashes,
      license: licenseOf(entry.license),
      dependsOn: refs(edges),
    });
  }
  const root = { name: tree.rootName, version: tree.rootVersion, ref: npmPurl(tree.rootName, tree.rootVersion) };
  return { graph: assembleGraph({ root, rootDependsOn: refs(rootEdges), installed, lockfile }), problems };
}

/** The tree's packages at their locations with resolved edges, the root's edges, and what this platform skips. */
export interface PlacedTree {
  readonly placed: ReadonlyMap<string, Placed>;
  readonly rootEdges: readonly LocationEdge[];
  readonly skipped: ReadonlySet<string>;
  readonly problems: string[];
}

/** Resolves every location's dependencies as Node would (see resolve.ts); reports every problem. */
export function placeTree(tree: NpmInstallTree, platform: () => NpmPlatform): PlacedTree {
  const { packages, where } = tree;
  const problems: string[] = [];
  if (tree.rootName === undefined) problems.push(`${tree.rootNamePath}: the root project has no name`);
  const edgesFrom = (location: string, entry: NpmLockEntry): LocationEdge[] => {
    const edges: LocationEdge[] = [];
    const resolve = dependencyResolver(packages, location);
    for (const { name, required, optional } of dependencyNames(entry, isTopLocation(location))) {
      const r = resolve(name);
      if (r.kind === 'found') edges.push({ to: r.location, optional });
      else if (r.kind === 'broken-link') problems.push(brokenLink(where, r.link, r.target));
      else if (required) {
        problems.push(`${where(location)}: depends on "${name}" but no node_modules/${name} is reachable from it`);
      }
    }
    return edges;
  };

  const placed = new Map<string, Placed>();
  for (const [location, entry] of packages) {
    if (location === '') continue;
    if (entry.link === true) {
      const r = followLink(packages, location);
      if (r.kind === 'broken-link') problems.push(brokenLink(where, r.link, r.target));
      continue; // the target is its own entry
    }
    const edges = edgesFrom(location, entry);
    placed.set(location, { entry, edges, hashes: hashesOf(entry, `${where(location)}.integrity`, problems) });
  }
  const rootEntry = packages.get('') ?? {};
  const rootEdges = edgesFrom('', rootEntry);
  const isWorkspace = workspaceMatcher(workspacePatterns(rootEntry));
  for (const location of placed.keys()) {
    if (isTopLocation(location) && isWorkspace(location)) rootEdges.push({ to: location, optional: false });
  }
  if (problems.length > 0 || tree.rootName === undefined) return { placed, rootEdges, skipped: new Set(), problems };
  return { placed, rootEdges, skipped: locationsSkipped(placed, rootEdges, platform), problems };
}

function locationsSkipped(
  placed: ReadonlyMap<string, Placed>,
  rootEdges: readonly LocationEdge[],
  platform: () => NpmPlatform,
): ReadonlySet<string> {
  const restricted = new Map([...placed].filter(([, p]) => p.entry.optional === true && isRestricted(p.entry)));
  if (restricted.size === 0) return new Set();
  const edges = new Map([...placed].map(([location, p]) => [location, p.edges]));
  edges.set('', rootEdges);
  return locationsSkippedOnPlatform(new Map([...restricted].map(([l, p]) => [l, p.entry])), edges, platform());
}

function isRestricted(entry: NpmLockEntry): boolean {
  return entry.os !== undefined || entry.cpu !== undefined || entry.libc !== undefined;
}

function hashesOf(entry: NpmLockEntry, where: string, problems: string[]): InstalledPackage['hashes'] {
  if (entry.integrity === undefined) return [];
  const result = integrityToHashes(entry.integrity);
  if (result.ok) return result.hashes;
  problems.push(...result.problems.map((p) => `${where}: ${p}`));
  return [];
}

/** The package's real name: `name` (set for aliases and workspaces) or the folder after the last node_modules/. */
export function packageName(location: string, entry: NpmLockEntry): string {
  if (entry.name !== undefined) return entry.name;
  const marker = location.lastIndexOf('node_modules/');
  return marker >= 0 ? location.slice(marker + 'node_modules/'.length) : (location.split('/').at(-1) ?? location);
}

function scopeOf(entry: NpmLockEntry): ComponentScope {
  if (entry.dev === true || entry.devOptional === true) return 'dev';
  return entry.optional === true ? 'optional' : 'runtime';
}

export function licenseOf(license: unknown): string | undefined {
  if (typeof license === 'string' && license.trim() !== '') return license.trim();
  if (license !== null && typeof license === 'object' && typeof (license as { type?: unknown }).type === 'string') {
    return licenseOf((license as { type: string }).type);
  }
  return undefined;
}

/**
 * Dependency names to resolve; `required` ones must be installed (optional and peer ones may be absent), `optional`
 * edges are npm's optional and peerOptional ones.
 */
export function dependencyNames(
  entry: NpmLockEntry,
  withDev: boolean,
): { name: string; required: boolean; optional: boolean }[] {
  const optional = new Set(Object.keys(entry.optionalDependencies ?? {}));
  const peer = new Set(Object.keys(entry.peerDependencies ?? {}));
  const meta = entry.peerDependenciesMeta ?? {};
  for (const name of peer) if (Object.hasOwn(meta, name) && meta[name]?.optional === true) optional.add(name);
  const required = new Set([
    ...Object.keys(entry.dependencies ?? {}),
    ...(withDev ? Object.keys(entry.devDependencies ?? {}) : []),
  ]);
  const names = new Set([...required, ...optional, ...peer]);
  return [...names].map((name) => ({
    name,
    required: required.has(name) && !optional.has(name) && !peer.has(name),
    optional: optional.has(name),
  }));
}

function workspacePatterns(root: NpmLockEntry): readonly string[] {
  const ws = root.workspaces;
  if (ws === undefined) return [];
  return Array.isArray(ws) ? ws : ws.packages;
}

function brokenLink(where: (location: string) => string, link: string, target: string | undefined): string {
  const to = target === undefined ? 'no "resolved" target' : `target "${target}", which has no entry of its own`;
  return `${where(link)}: link has ${to}`;
}
