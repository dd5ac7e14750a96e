// A validated pnpm lockfile → ComponentGraph of one importer, with the scopes, edges and platform skips npm would give.
import { posix } from 'node:path';
import type { Digest } from '../../../core/digest.js';
import { npmPurl } from '../../../ecosystems/purl.js';
import { assembleGraph, type ComponentGraph, type InstalledPackage } from '../../graph.js';
import { integrityToHashes } from '../integrity.js';
import { rememberLast } from '../last-read.js';
import { formatPath } from '../npm/lockfile-schema.js';
import {
  type LocationEdge,
  locationsSkippedOnPlatform,
  type NpmPlatform,
  type PlatformRestrictions,
} from '../npm/platform.js';
import { dependencyFlags, type KindedEdge } from './dep-flags.js';
import { depPathOfRef, packageIdOf } from './dep-path.js';
import type { PnpmImporter, PnpmLockfile, PnpmPackage } from './lockfile-schema.js';

/** A workspace project's name and version from its package.json: pnpm-lock.yaml records neither. */
export interface PnpmProject {
  readonly name: string;
  readonly version: string;
}

interface GraphNode {
  readonly name: string;
  readonly version: string;
  readonly hashes: InstalledPackage['hashes'];
  readonly restrictions: PlatformRestrictions | undefined;
  readonly edges: readonly KindedEdge[];
}

const ROOT = '';
const IMPORTER_KINDS = [
  ['dependencies', 'prod'],
  ['optionalDependencies', 'optional'],
  ['devDependencies', 'dev'],
] as const;

/**
 * Builds the graph of what `pnpm install` puts in importer `importer` (which must exist) on `platform` (asked only
 * when some optional package has os/cpu/libc restrictions). Nodes are dependency paths, so edges stay exact per peer
 * variant; components are merged by purl, which drops peer suffixes. `link:` dependencies of a project become
 * components named after the linked project (see `projects`) with that project's own dependencies, as npm records
 * workspaces; a link back to the root project is left out, as npm leaves it out. Reports every problem.
 */
export function buildPnpmGraph(
  lockfile: PnpmLockfile,
  importer: string,
  projects: Readonly<Record<string, PnpmProject>>,
  lockfileId: { path: string; digest: Digest },
  platform: () => NpmPlatform,
  /** Leave out linked projects' devDependencies, as `pnpm list` does: they build that project, not this one. */
  ownDevOnly = false,
): { graph?: ComponentGraph; problems: string[] } {
  const packaged = packageNodes(lockfile);
  const problems: string[] = [];
  const project = (path: string) => (Object.hasOwn(projects, path) ? projects[path] : undefined);
  const edgeTo = edgeMaker(lockfile, problems);

  const linkNames = new Map<string, string>(); // linked directory → the dependency name it was first linked as
  const importerEdges = (path: string, entry: PnpmImporter): KindedEdge[] => {
    const edges: KindedEdge[] = [];
    for (const [field, kind] of IMPORTER_KINDS) {
      if (ownDevOnly && kind === 'dev' && path !== importer) continue;
      for (const [name, { version: ref }] of Object.entries(entry[field] ?? {})) {
        if (!ref.startsWith('link:')) {
          const edge = edgeTo(name, ref, kind, ['importers', path, field, name, 'version']);
          if (edge !== undefined) edges.push(edge);
          continue;
        }
        const target = posix.normalize(posix.join(path, ref.slice('link:'.length)));
        if (target === importer) continue;
        if (!linkNames.has(target)) linkNames.set(target, name);
        edges.push({ to: `link:${target}`, kind });
      }
    }
    return edges;
  };
  const edges = new Map<string, readonly KindedEdge[]>();
  for (const [path, entry] of lockfile.importers) {
    edges.set(path === importer ? ROOT : `link:${path}`, importerEdges(path, entry));
  }

  const nodes = new Map(packaged.nodes);
  for (const [depPath, node] of nodes) edges.set(depPath, node.edges);
  problems.push(...packaged.problems);
  for (const [path, linkedAs] of linkNames) {
    const p = project(path);
    nodes.set(`link:${path}`, {
      name: p?.name ?? linkedAs,
      version: p?.version ?? '',
      hashes: [],
      restrictions: undefined,
      edges: edges.get(`link:${path}`) ?? [], // none for a directory that is not a workspace project
    });
  }
  if (problems.length > 0) return { problems };

  const flags = dependencyFlags(edges, ROOT);
  const restricted = new Map<string, PlatformRestrictions>();
  for (const [id, f] of flags) {
    const r = nodes.get(id)?.restrictions;
    if (f.optional && r !== undefined) restricted.set(id, r);
  }
  const skipped =
    restricted.size === 0
      ? new Set<string>()
      : locationsSkippedOnPlatform(restricted, locationEdges(edges, flags), platform());
  const purlOf = (id: string) => {
    const node = nodes.get(id);
    return npmPurl(node?.name ?? '', node?.version ?? '');
  };
  const refs = (out: readonly KindedEdge[]) => out.filter((e) => !skipped.has(e.to)).map((e) => purlOf(e.to));
  const installed: InstalledPackage[] = [];
  for (const [id, f] of flags) {
    const node = nodes.get(id);
    if (node === undefined || skipped.has(id)) continue; // the root
    const { name, version, hashes } = node;
    installed.push({ name, version, purl: purlOf(id), scope: f.scope, hashes, dependsOn: refs(node.edges) });
  }
  const p = project(importer);
  const root = { name: p?.name ?? importer, version: p?.version ?? '' };
  return {
    graph: assembleGraph({
      root: { ...root, ref: npmPurl(root.name, root.version) },
      rootDependsOn: refs(edges.get(ROOT) ?? []),
      installed,
      lockfile: lockfileId,
    }),
    problems,
  };
}

type EdgeTo = (
  name: string,
  ref: string,
  kind: KindedEdge['kind'],
  at: readonly PropertyKey[],
) => KindedEdge | undefined;

/** Resolves a dependency's ref to the package it names; a ref to a missing package goes to `problems`. */
function edgeMaker(lockfile: PnpmLockfile, problems: string[]): EdgeTo {
  const where = lockfile.format === '9.0' ? 'snapshots' : 'packages';
  return (name, ref, kind, at) => {
    const depPath = depPathOfRef(lockfile.format, ref, name);
    // undefined: a `link:` inside a package (only with injected workspace projects), left out: the project it
    // names is an importer of its own
    if (depPath === undefined) return undefined;
    if (lockfile.packages.has(depPath)) return { to: depPath, kind };
    problems.push(`${formatPath(at)}: "${ref}" points at ${formatPath([where, depPath])}, which does not exist`);
    return undefined;
  };
}

/** Every package of the lockfile as a node with its edges, whatever the importer: remembered for the last lockfile. */
const packageNodes = rememberLast((lockfile: PnpmLockfile) => {
  const problems: string[] = [];
  const edgeTo = edgeMaker(lockfile, problems);
  const nodes = new Map<string, GraphNode>();
  for (const [depPath, pkg] of lockfile.packages) {
    const node = packageNode(lockfile.format, depPath, pkg, problems, edgeTo);
    if (node !== undefined) nodes.set(depPath, node);
  }
  return { nodes: nodes as ReadonlyMap<string, GraphNode>, problems: problems as readonly string[] };
});

function packageNode(
  format: PnpmLockfile['format'],
  depPath: string,
  pkg: PnpmPackage,
  problems: string[],
  edgeTo: EdgeTo,
): GraphNode | undefined {
  const id = packageIdOf(format, depPath);
  const name = pkg.name ?? id?.name;
  if (name === undefined) {
    problems.push(`${formatPath(pkg.where)}: the key is not name@version and the entry has no "name"`);
    return undefined;
  }
  const meta = pkg.peerDependenciesMeta ?? {};
  const optionalPeer = (n: string) => Object.hasOwn(meta, n) && meta[n]?.optional === true; // npm's peerOptional
  const edges: KindedEdge[] = [];
  for (const [field, deps] of [
    ['dependencies', pkg.dependencies],
    ['optionalDependencies', pkg.optionalDependencies],
  ] as const) {
    for (const [n, ref] of Object.entries(deps ?? {})) {
      const kind = field === 'optionalDependencies' || optionalPeer(n) ? 'optional' : 'prod';
      const edge = edgeTo(n, ref, kind, [...pkg.where, field, n]);
      if (edge !== undefined) edges.push(edge);
    }
  }
  const { os, cpu, libc } = pkg;
  const restricted = os !== undefined || cpu !== undefined || libc !== undefined;
  return {
    name,
    version: pkg.version ?? id?.version ?? '',
    hashes: hashesOf(pkg, problems),
    restrictions: restricted ? { os, cpu, libc } : undefined,
    edges,
  };
}

function hashesOf(pkg: PnpmPackage, problems: string[]): InstalledPackage['hashes'] {
  const integrity = pkg.resolution?.integrity;
  if (integrity === undefined) return []; // git and directory resolutions have no archive hash
  const result = integrityToHashes(integrity);
  if (result.ok) return result.hashes;
  const at = formatPath([...pkg.metaWhere, 'resolution', 'integrity']);
  problems.push(...result.problems.map((p) => `${at}: ${p}`));
  return [];
}

/** The reachable part of the graph as npm-platform's location edges (optional = optional or optional peer). */
function locationEdges(
  edges: ReadonlyMap<string, readonly KindedEdge[]>,
  reachable: ReadonlyMap<string, unknown>,
): Map<string, LocationEdge[]> {
  const out = new Map<string, LocationEdge[]>();
  for (const id of reachable.keys()) {
    out.set(
      id,
      (edges.get(id) ?? []).map((e) => ({ to: e.to, optional: e.kind === 'optional' })),
    );
  }
  return out;
}
