// Which workspace packages an SBOM describes: those the artifacts were built from (perPackage steps), so each package's
// artifact carries its own dependencies rather than the root project's, or another package's.
import { promises as fsp } from 'node:fs';
import type { KilnConfig } from '../config/index.js';
import { KilnError } from '../core/errors.js';
import { globWorkspaceDirs, type ListDirs, listDirsOnDisk } from '../plan/workspaces/glob.js';
import { readWorkspaces, type WorkspacePackage } from '../plan/workspaces/read.js';

/** What makeSbom needs to know of a workspace: every package's directory and the ones described. */
export interface SbomWorkspace {
  readonly packages: readonly string[];
  readonly describe: readonly string[];
}

/** How the project's files are read: a commit's tree in a build, the disk for `kiln sbom`. */
export interface WorkspaceFiles {
  readFile(absPath: string): Promise<Buffer>;
  readonly listDirs: ListDirs;
}

/** The files on disk. */
export const DISK_FILES: WorkspaceFiles = { readFile: (p) => fsp.readFile(p), listDirs: listDirsOnDisk };

/** The workspace packages of the project in `projectDir`; none when it declares no workspaces. */
export function workspacePackages(projectDir: string, files: WorkspaceFiles): Promise<readonly WorkspacePackage[]> {
  return readWorkspaces(
    projectDir,
    async (p) => (await files.readFile(p)).toString('utf8'),
    (dir, patterns) => globWorkspaceDirs(dir, patterns, files.listDirs),
  );
}

/** Artifacts that share an SBOM: those built from the same workspace packages. */
export interface SbomGroup {
  /** The artifacts' kiln.yaml names, in kiln.yaml's order. */
  readonly artifacts: readonly string[];
  /** The packages the SBOM describes; undefined without workspace packages (the lockfiles' own layout). */
  readonly workspace: SbomWorkspace | undefined;
}

/**
 * The build's artifacts grouped by the SBOM that describes them: an artifact of a perPackage step (`<step>:<package>`)
 * is that package's; any other artifact is the whole workspace's (the root and every package). Without workspace
 * packages, one group of every artifact.
 */
export function artifactSbomGroups(
  config: Pick<KilnConfig, 'steps' | 'artifacts'>,
  packages: readonly WorkspacePackage[],
): SbomGroup[] {
  if (packages.length === 0) return [{ artifacts: config.artifacts.map((a) => a.name), workspace: undefined }];
  const dirs = packages.map((p) => p.dir);
  const dirOf = new Map(packages.map((p) => [p.name, p.dir]));
  const groups = new Map<string, { artifacts: string[]; workspace: SbomWorkspace }>();
  for (const artifact of config.artifacts) {
    const at = artifact.from.indexOf(':');
    const template = config.steps[artifact.from.slice(0, at)];
    const dir = at > 0 && template?.perPackage === true ? dirOf.get(artifact.from.slice(at + 1)) : undefined;
    const describe = dir === undefined ? ['.', ...dirs] : [dir];
    const key = describe.join('\n');
    const group = groups.get(key) ?? { artifacts: [], workspace: { packages: dirs, describe } };
    group.artifacts.push(artifact.name);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/** The one package named `name` (`kiln sbom --package`), as a workspace to describe. */
export function namedPackageSbomWorkspace(packages: readonly WorkspacePackage[], name: string): SbomWorkspace {
  const found = packages.find((p) => p.name === name || p.dir === name);
  if (found === undefined) {
    const known = packages.map((p) => p.name).join(', ') || 'none';
    throw new KilnError('KILN_USAGE', `kiln sbom: no workspace package "${name}" (packages: ${known})`, {
      hint: 'name a package of the workspace by its package.json name or its directory',
    });
  }
  return { packages: packages.map((p) => p.dir), describe: [found.dir] };
}
