// npm package-lock.json (lockfileVersion 1, 2 and 3) → ComponentGraph of what npm installs on the build platform.

import { sha256Digest } from '../../../core/digest.js';
import { KilnError } from '../../../core/errors.js';
import { isRecord } from '../../../core/json.js';
import { parseJsonText } from '../../../core/json-text.js';
import { escapeForTerminal } from '../../../core/terminal.js';
import { type ComponentGraph, lockfileInvalid } from '../../graph.js';
import { rememberLast } from '../last-read.js';
import { importerGraph } from './importer-graph.js';
import { buildNpmGraph, type NpmInstallTree, placeTree } from './lock-graph.js';
import { checkLockfileShape, formatPath, issuesToProblems } from './lockfile-schema.js';
import { type CheckedManifest, checkV1Lockfile, NpmManifest } from './lockfile-v1.js';
import { hostNpmPlatform, type NpmPlatform } from './platform.js';

/** What a lockfile alone does not say: the platform npm installs for, and (for v1) the root's package.json. */
export interface ReadNpmLockfileOptions {
  /** Optional packages whose os/cpu/libc do not match are left out, as npm skips them. Default: this process's. */
  readonly platform?: NpmPlatform;
  /**
   * The project's package.json, read only for lockfileVersion 1, which does not record the root's dependencies.
   * Without it the direct dependencies are the top-level packages no other package requires.
   */
  readonly manifest?: { readonly text: string; readonly file: string };
  /**
   * The workspace package to describe alone, by its folder (`packages/app`; '.' for the root project without its
   * workspaces): see importer-graph.ts. Default: the whole install tree.
   */
  readonly importer?: string;
}

const REGENERATE_HINT = 'Regenerate it with `npm install --package-lock-only` and commit the result.';

/** Reads an npm lockfile's text into a frozen ComponentGraph; `file` names it in errors and in the graph. Pure. */
export function readNpmLockfile(text: string, file: string, options: ReadNpmLockfileOptions = {}): ComponentGraph {
  const { value, digest } = parsed(text, file);
  const lockfileVersion = isRecord(value) ? value.lockfileVersion : undefined;
  if (typeof lockfileVersion === 'number' && lockfileVersion > 3) {
    throw new KilnError(
      'KILN_LOCKFILE_INVALID',
      `${file} has lockfileVersion ${lockfileVersion}; Kiln reads 1, 2 and 3`,
      {
        hint: 'Upgrade Kiln, or write the lockfile in a version it reads: `npm install --lockfile-version 3`.',
        details: { file, lockfileVersion },
      },
    );
  }
  const { tree, problems } = laidOut(value, options.manifest?.text, options.manifest?.file);
  if (tree === undefined) throw invalid(file, problems);
  const id = { path: file, digest };
  const { importer, platform } = options;
  const built =
    importer === undefined
      ? buildNpmGraph(tree, id, () => platform ?? hostNpmPlatform())
      : importerGraph(tree, placed(tree, platform), importer === '.' ? '' : importer, id);
  if (built.graph === undefined) throw invalid(file, built.problems);
  return built.graph;
}

/** The lockfile's JSON and digest; the last ones are remembered. */
const parsed = rememberLast((text: string, file: string) => ({
  value: parseJson(text, file, `Fix the syntax error or restore the file from git. ${REGENERATE_HINT}`),
  digest: sha256Digest(text),
}));

/** The lockfile laid out by location (v1 with the root's package.json); the last one is remembered. */
const laidOut = rememberLast((value: unknown, manifestText: string | undefined, manifestFile: string | undefined) =>
  isRecord(value) && value.lockfileVersion === 1
    ? checkV1Lockfile(
        value,
        checkedManifest(
          manifestText === undefined ? undefined : { text: manifestText, file: manifestFile ?? 'package.json' },
        ),
      )
    : treeOfPackages(value),
);

/** The tree placed on the platform; the last one is remembered (a workspace's packages share it). */
const placed = rememberLast((tree: NpmInstallTree, platform: NpmPlatform | undefined) =>
  placeTree(tree, () => platform ?? hostNpmPlatform()),
);

/** A v2/v3 lockfile's `packages` map is already laid out by location. */
function treeOfPackages(value: unknown): { tree?: NpmInstallTree; problems: string[] } {
  const { lockfile, problems } = checkLockfileShape(value);
  if (lockfile === undefined) return { problems };
  const root = lockfile.packages.get('') ?? {};
  const tree: NpmInstallTree = {
    rootName: root.name ?? lockfile.name,
    rootVersion: root.version ?? lockfile.version ?? '',
    rootNamePath: formatPath(['packages', '', 'name']),
    packages: lockfile.packages,
    where: (location) => formatPath(['packages', location]),
  };
  return { tree, problems };
}

function checkedManifest(manifest: ReadNpmLockfileOptions['manifest']): CheckedManifest | undefined {
  if (manifest === undefined) return undefined;
  const { file } = manifest;
  const value = parseJson(manifest.text, file, 'Fix the syntax error or restore the file from git.');
  const parsed = NpmManifest.safeParse(value);
  if (parsed.success) return { file, entry: value as CheckedManifest['entry'] }; // the JSON.parse value: see v1 reader
  const problems = issuesToProblems(parsed.error.issues, []);
  throw new KilnError(
    'KILN_LOCKFILE_INVALID',
    `${file} is not a valid package.json:\n  ${problems.map((p) => escapeForTerminal(p)).join('\n  ')}`,
    {
      hint: 'Dependencies must map package names to version strings; fix package.json and regenerate the lockfile.',
      details: { file, problems },
    },
  );
}

function parseJson(text: string, file: string, hint: string): unknown {
  const parsed = parseJsonText(text);
  if (parsed.ok) return parsed.value;
  throw new KilnError(
    'KILN_LOCKFILE_INVALID',
    `${file}:${parsed.line}:${parsed.column}: not valid JSON: ${parsed.reason}`,
    {
      hint,
      details: { file, line: parsed.line, column: parsed.column },
    },
  );
}

function invalid(file: string, allProblems: readonly string[]): KilnError {
  return lockfileInvalid(file, 'npm lockfile', allProblems, REGENERATE_HINT);
}
