// yarn.lock (classic v1 or berry v2+) + package.json → ComponentGraph, the graph npm would give for the same tree.
import { sha256Digest } from '../../../core/digest.js';
import type { KilnError } from '../../../core/errors.js';
import { type ComponentGraph, lockfileInvalid, lockfileUnsupported } from '../../graph.js';
import { rememberLast } from '../last-read.js';
import type { WorkspaceSelection } from '../workspace.js';
import { readBerryLock } from './berry.js';
import { readClassicLock } from './classic.js';
import { buildYarnGraph, type YarnDependency, type YarnLock, type YarnProject } from './graph.js';
import { readYarnManifest, type YarnManifest } from './manifest.js';
import { buildYarnWorkspaceGraph } from './workspace-graph.js';

/** Which yarn wrote a lockfile: berry's always opens with its `__metadata` block. */
export type YarnLockfileFormat = 'classic' | 'berry';

const BERRY_RE = /^__metadata:/m;

/** The format of a yarn.lock's text: berry when it has a top-level `__metadata` key, classic otherwise. */
export function yarnLockfileFormat(text: string): YarnLockfileFormat {
  return BERRY_RE.test(text) ? 'berry' : 'classic';
}

/**
 * Reads a yarn.lock into a frozen ComponentGraph; `file` names it in errors and in the graph. A yarn.lock records
 * neither the project nor which of its dependencies are dev or optional, so those come from the project's
 * package.json (`manifest`). With `workspace`, the graph is that of one workspace package (see workspace-graph.ts).
 * Throws KILN_LOCKFILE_INVALID listing every problem with its line and path, KILN_LOCKFILE_UNSUPPORTED for what
 * yarn wrote but Kiln does not read. Pure.
 */
export function readYarnLockfile(
  text: string,
  file: string,
  manifest: { readonly text: string; readonly file: string },
  workspace?: WorkspaceSelection,
): ComponentGraph {
  const { project, format, read, digest } = parsed(text, manifest.text, manifest.file);
  if (read.lock === undefined) throw invalid(file, format, read.problems, SYNTAX_HINT[format]);
  const problems = project.name === undefined ? [`${project.file}: name: the root project has no name`] : [];
  const lockfile = { path: file, digest };
  const built =
    workspace === undefined
      ? buildYarnGraph(read.lock, { name: project.name ?? '', version: project.version }, lockfile)
      : buildYarnWorkspaceGraph(read.lock, projectsOf(read.lock, project, workspace), workspace.importer, lockfile);
  if (problems.length === 0 && built.unreadable.length > 0) throw lockfileUnsupported(file, built.unreadable);
  if (built.graph === undefined || problems.length > 0) {
    throw invalid(file, format, [...problems, ...built.problems], STALE_HINT);
  }
  return built.graph;
}

/** The lockfile and package.json parsed; the last ones are remembered. */
const parsed = rememberLast((text: string, manifestText: string, manifestFile: string) => {
  const project = readYarnManifest({ text: manifestText, file: manifestFile });
  const format = yarnLockfileFormat(text);
  const read = format === 'berry' ? readBerryLock(text, project) : readClassicLock(text, project);
  return { project, format, read, digest: sha256Digest(text) };
});

/** The root project and every workspace package, each with its dependencies as the lockfile files them. */
function projectsOf(lock: YarnLock, root: YarnManifest, workspace: WorkspaceSelection): YarnProject[] {
  const manifests: [string, YarnManifest][] = [
    ['.', root],
    ...[...workspace.manifests].map(([dir, m]): [string, YarnManifest] => [dir, readYarnManifest(m)]),
  ];
  return manifests.map(([dir, m]) => {
    const name = m.name ?? dir;
    const dependencies = m.dependencies.map(
      (d): YarnDependency => ({ ...d, descriptors: lock.descriptorsOf({ name, dir }, d.name, d.range) }),
    );
    return { dir, name, version: m.version, dependencies };
  });
}

const SYNTAX_HINT: Readonly<Record<YarnLockfileFormat, string>> = {
  classic:
    'yarn.lock is written by yarn, not by hand: restore it from git, or regenerate it with `yarn install` (yarn 1 ' +
    'also resolves merge conflict markers that way) and commit the result.',
  berry:
    'yarn.lock is written by yarn, not by hand: restore it from git, or regenerate it with `yarn install` and commit the result.',
};

const STALE_HINT =
  'yarn.lock must agree with package.json (which needs a name): run `yarn install` to bring it up to date and commit both.';

function invalid(file: string, format: YarnLockfileFormat, allProblems: readonly string[], hint: string): KilnError {
  return lockfileInvalid(file, `yarn ${format} lockfile`, allProblems, hint, { format });
}
