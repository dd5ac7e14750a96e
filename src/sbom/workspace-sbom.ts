// The SBOM of packages of a workspace (npm, pnpm, yarn): each package read from the lockfile as the project it is, with
// its own dependencies, rather than the root project's tree for every artifact.
import type { Digest } from '../core/digest.js';
import { sha256Digest } from '../core/digest.js';
import { assembleGraph, type ComponentGraph, compareStrings, type InstalledPackage } from './graph.js';
import type { LockfileReader, ReadContext } from './lockfiles/readers.js';
import type { ManifestText } from './lockfiles/workspace.js';

/** The package.json of every workspace package, and the packages (directories; '.' the root) the SBOM describes. */
export interface WorkspaceManifests {
  readonly describe: readonly string[];
  readonly manifests: ReadonlyMap<string, ManifestText>;
  /** What of it shapes the SBOM, for the memo's key. */
  readonly key: WorkspaceKey;
}

/** The described packages and the digests of the package.json files read. */
export interface WorkspaceKey {
  readonly describe: readonly string[];
  readonly manifests: readonly { readonly path: string; readonly digest: Digest }[];
}

/** Lockfiles that lay out a workspace; the others (Cargo.lock, go.sum, …) describe the project as a whole. */
const WORKSPACE_LOCKFILES: ReadonlySet<string> = new Set(['package-lock.json', 'pnpm-lock.yaml', 'yarn.lock']);

/** Reads each workspace package's package.json; undefined when the project has no workspace packages. */
export async function readWorkspaceManifests(
  workspace: { readonly packages: readonly string[]; readonly describe?: readonly string[] | undefined } | undefined,
  read: (path: string) => Promise<Buffer | undefined>,
): Promise<WorkspaceManifests | undefined> {
  if (workspace === undefined || workspace.packages.length === 0) return undefined;
  const dirs = [...new Set(workspace.packages)].sort(compareStrings);
  const files = await Promise.all(dirs.map((dir) => read(`${dir}/package.json`)));
  const manifests = new Map<string, ManifestText>();
  const digests: WorkspaceKey['manifests'][number][] = [];
  dirs.forEach((dir, i) => {
    const bytes = files[i];
    if (bytes === undefined) return;
    manifests.set(dir, { text: bytes.toString('utf8'), file: `${dir}/package.json` });
    digests.push({ path: `${dir}/package.json`, digest: sha256Digest(bytes) });
  });
  const asked = [...new Set(workspace.describe ?? [])].sort(compareStrings);
  const describe = asked.length > 0 ? asked : ['.', ...dirs];
  return { describe, manifests, key: { describe, manifests: digests } };
}

/**
 * One lockfile's graph: of the described workspace package, or, when several are described, of the project root with
 * each described package as a component of its own (with its dependencies) that the root depends on.
 */
export function readLockfile(
  reader: LockfileReader,
  bytes: Buffer,
  ctx: ReadContext,
  workspace: WorkspaceManifests | undefined,
): ComponentGraph {
  const text = bytes.toString('utf8');
  if (workspace === undefined || !WORKSPACE_LOCKFILES.has(reader.path)) return reader.read(text, reader.path, ctx);
  const { manifests } = workspace;
  const graphOf = (importer: string) => reader.read(text, reader.path, { ...ctx, workspace: { importer, manifests } });
  const [only, ...more] = workspace.describe;
  if (only !== undefined && more.length === 0) return graphOf(only);
  const root = graphOf('.');
  const packages = workspace.describe.filter((dir) => dir !== '.').map(graphOf);
  const direct = (g: ComponentGraph) => g.components.filter((c) => c.direct).map((c) => c.ref);
  const asComponents = packages.map(
    (g): InstalledPackage => ({
      name: g.root.name,
      version: g.root.version,
      purl: g.root.ref,
      scope: 'runtime',
      hashes: [],
      dependsOn: direct(g),
    }),
  );
  const described = workspace.describe.includes('.');
  return assembleGraph({
    root: root.root,
    rootDependsOn: [...(described ? direct(root) : []), ...asComponents.map((c) => c.purl)],
    installed: [...(described ? root.components : []), ...packages.flatMap((g) => g.components), ...asComponents],
    lockfile: root.lockfile,
  });
}
