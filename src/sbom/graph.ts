// The ecosystem-neutral component graph every lockfile reader produces and every SBOM writer consumes.
import { type Digest, sha256Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import { freezeOutline } from '../core/json.js';
import { escapeForTerminal } from '../core/terminal.js';

/** Hash algorithms lockfiles record, named as CycloneDX names them. */
export type HashAlg = 'SHA-512' | 'SHA-384' | 'SHA-256' | 'SHA-1';

/** One content hash of a package archive, as lowercase hex. */
export interface ComponentHash {
  readonly alg: HashAlg;
  readonly hex: string;
}

/** How a component is needed: shipped at run time, only if installable, or only while developing. */
export type ComponentScope = 'runtime' | 'dev' | 'optional';

/** One package (name@version) of the dependency tree, however many places it is installed in. */
export interface Component {
  /** Graph-unique id; the purl. */
  readonly ref: string;
  /** Ecosystem-native full name (npm: `@scope/name`). */
  readonly name: string;
  /** Version as the lockfile records it; '' when it records none. */
  readonly version: string;
  readonly purl: string;
  readonly scope: ComponentScope;
  /** True when the root project itself depends on it. */
  readonly direct: boolean;
  readonly hashes: readonly ComponentHash[];
  /** License as declared by the package (usually an SPDX expression). */
  readonly license?: string;
  /** Refs of the components this one depends on, sorted. */
  readonly dependsOn: readonly string[];
}

/** The project whose dependencies the graph describes. */
export interface GraphRoot {
  readonly name: string;
  readonly version: string;
  readonly ref: string;
}

/** A resolved dependency graph read from one lockfile; its outline is frozen (see freezeOutline). */
export interface ComponentGraph {
  readonly root: GraphRoot;
  /** Sorted by ref; one per ref. */
  readonly components: readonly Component[];
  /** Where the graph came from: path relative to the project dir, and the digest of its bytes. */
  readonly lockfile: { readonly path: string; readonly digest: Digest };
}

/** One installed copy of a package as a reader sees it, before copies of the same package are merged. */
export interface InstalledPackage {
  readonly name: string;
  readonly version: string;
  readonly purl: string;
  readonly scope: ComponentScope;
  readonly hashes: readonly ComponentHash[];
  readonly license?: string | undefined;
  /** Refs (purls) this copy resolved its dependencies to. */
  readonly dependsOn: readonly string[];
}

interface Merged {
  readonly pkg: InstalledPackage;
  scope: ComponentScope;
  license: string | undefined;
  readonly deps: Set<string>;
  readonly hashes: Map<string, ComponentHash>;
}

const SCOPE_RANK: Readonly<Record<ComponentScope, number>> = { runtime: 0, optional: 1, dev: 2 };
const ALG_RANK: Readonly<Record<HashAlg, number>> = { 'SHA-512': 0, 'SHA-384': 1, 'SHA-256': 2, 'SHA-1': 3 };

/**
 * Merges installed copies into one component per purl (union of edges and hashes; the most needed scope wins),
 * marks the root's dependencies as direct, sorts everything and freezes the result. Shared by all readers.
 */
export function assembleGraph(input: {
  root: GraphRoot;
  rootDependsOn: readonly string[];
  installed: readonly InstalledPackage[];
  lockfile: { path: string; digest: Digest };
}): ComponentGraph {
  const merged = new Map<string, Merged>();
  for (const pkg of input.installed) {
    let m = merged.get(pkg.purl);
    if (m === undefined) {
      m = { pkg, scope: pkg.scope, license: pkg.license, deps: new Set(), hashes: new Map() };
      merged.set(pkg.purl, m);
    }
    if (SCOPE_RANK[pkg.scope] < SCOPE_RANK[m.scope]) m.scope = pkg.scope;
    m.license ??= pkg.license;
    for (const d of pkg.dependsOn) m.deps.add(d);
    for (const h of pkg.hashes) m.hashes.set(`${h.alg}:${h.hex}`, h);
  }
  const direct = new Set(input.rootDependsOn);
  const components = [...merged.entries()]
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([ref, m]): Component => {
      const { license } = m;
      return {
        ref,
        name: m.pkg.name,
        version: m.pkg.version,
        purl: m.pkg.purl,
        scope: m.scope,
        direct: direct.has(ref),
        hashes: [...m.hashes.values()].sort(
          (a, b) => ALG_RANK[a.alg] - ALG_RANK[b.alg] || compareStrings(a.hex, b.hex),
        ),
        ...(license === undefined ? {} : { license }),
        dependsOn: [...m.deps].sort(compareStrings),
      };
    });
  return freezeOutline({ root: { ...input.root }, components, lockfile: { ...input.lockfile } });
}

/** Code-unit string order: locale-independent, so output never depends on the machine. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const MAX_EPOCH = 253402300799; // 9999-12-31T23:59:59Z: the last second RFC 3339 can write

/** An SBOM's creation time from SOURCE_DATE_EPOCH: RFC 3339, whole seconds, UTC; refuses what it cannot write. */
export function sbomTimestamp(epoch: number): string {
  if (!Number.isSafeInteger(epoch) || epoch < 0 || epoch > MAX_EPOCH) {
    throw new KilnError(
      'KILN_USAGE',
      `sourceDateEpoch must be whole seconds between 0 and ${MAX_EPOCH}, got ${epoch}`,
      {
        hint: 'Set SOURCE_DATE_EPOCH to the commit time in seconds, e.g. `git log -1 --format=%ct`.',
      },
    );
  }
  return new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');
}

/** Component lists checkGraphEdges found consistent: both writers check the same graph, and a list is frozen. */
const consistent = new WeakSet<readonly Component[]>();

/** Refuses a graph with duplicate refs or edges to unknown components (a reader bug), before any writer uses it. */
export function checkGraphEdges(graph: ComponentGraph): void {
  if (consistent.has(graph.components)) return;
  const refs = new Set<string>();
  for (const c of graph.components) refs.add(c.ref);
  const dangling: string[] = [];
  for (const c of graph.components) for (const d of c.dependsOn) if (!refs.has(d)) dangling.push(`${c.ref} → ${d}`);
  if (refs.size !== graph.components.length || dangling.length > 0) {
    throw new KilnError(
      'KILN_SBOM_INVALID',
      `component graph of ${graph.lockfile.path} is inconsistent: ${dangling.length > 0 ? `edges to unknown components: ${dangling.join(', ')}` : 'duplicate refs'}`,
      {
        hint: 'This is a bug in the lockfile reader that built the graph; please report it with the lockfile.',
      },
    );
  }
  if (Object.isFrozen(graph.components)) consistent.add(graph.components);
}

/**
 * One graph from several lockfiles of the project (e.g. npm and pnpm in one repository): components with the same
 * ref merge as copies of one package do (see assembleGraph); the first graph's root names the project, and the
 * lockfile is the list of all of them.
 */
export function mergeGraphs(graphs: readonly ComponentGraph[]): ComponentGraph {
  const [first] = graphs;
  if (!first) throw new KilnError('KILN_USAGE', 'mergeGraphs needs at least one graph');
  if (graphs.length === 1) return first;
  const components = graphs.flatMap((g) => g.components);
  const digests = graphs.map((g) => `${g.lockfile.path}\u0000${g.lockfile.digest}`).join('\n');
  return assembleGraph({
    root: first.root,
    rootDependsOn: components.filter((c) => c.direct).map((c) => c.ref),
    installed: components,
    lockfile: { path: graphs.map((g) => g.lockfile.path).join(', '), digest: sha256Digest(digests) },
  });
}

/** KILN_LOCKFILE_INVALID listing every problem of `file` once, e.g. "is not a valid pnpm lockfile (2 problems)". */
export function lockfileInvalid(
  file: string,
  what: string,
  allProblems: readonly string[],
  hint: string,
  details: Readonly<Record<string, unknown>> = {},
): KilnError {
  const problems = [...new Set(allProblems)];
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return new KilnError(
    'KILN_LOCKFILE_INVALID',
    `${file} is not a valid ${what} (${count}):\n  ${problems.map((p) => escapeForTerminal(p)).join('\n  ')}`,
    {
      hint,
      details: { file, ...details, problems },
    },
  );
}

/**
 * KILN_LOCKFILE_UNSUPPORTED: `file` is as its package manager wrote it, but uses something Kiln does not read yet
 * (each construct with its line). Said as Kiln's limit, never as a fault of the user's file.
 */
export function lockfileUnsupported(file: string, constructs: readonly string[]): KilnError {
  const all = [...new Set(constructs)];
  return new KilnError(
    'KILN_LOCKFILE_UNSUPPORTED',
    `Kiln cannot read this lockfile construct in ${file}:\n  ${all.join('\n  ')}`,
    {
      hint: `This is a gap in Kiln, not a fault of ${file}; please report it with the lockfile and package.json.`,
      details: { file, constructs: all },
    },
  );
}
