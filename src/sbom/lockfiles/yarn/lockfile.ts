// yarn.lock (classic v1 or berry v2+) + package.json → ComponentGraph, the graph npm would give for the same tree.
import { sha256Digest } from '../../../core/digest.js';
import type { KilnError } from '../../../core/errors.js';
import { type ComponentGraph, lockfileInvalid } from '../../graph.js';
import { readBerryLock } from './berry.js';
import { readClassicLock } from './classic.js';
import { buildYarnGraph } from './graph.js';
import { readYarnManifest } from './manifest.js';

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
 * package.json (`manifest`). Throws KILN_LOCKFILE_INVALID listing every problem with its line and path. Pure.
 */
export function readYarnLockfile(
  text: string,
  file: string,
  manifest: { readonly text: string; readonly file: string },
): ComponentGraph {
  const project = readYarnManifest(manifest);
  const format = yarnLockfileFormat(text);
  const read = format === 'berry' ? readBerryLock(text, project) : readClassicLock(text, project);
  if (read.lock === undefined) throw invalid(file, format, read.problems, SYNTAX_HINT[format]);
  const problems = project.name === undefined ? [`${project.file}: name: the root project has no name`] : [];
  const root = { name: project.name ?? '', version: project.version };
  const built = buildYarnGraph(read.lock, root, { path: file, digest: sha256Digest(text) });
  if (built.graph === undefined || problems.length > 0) {
    throw invalid(file, format, [...problems, ...built.problems], STALE_HINT);
  }
  return built.graph;
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
