// pnpm-lock.yaml (lockfileVersion '6.0' and '9.0') → ComponentGraph of what pnpm installs for one project.
import { parseAllDocuments } from 'yaml';
import { sha256Digest } from '../../../core/digest.js';
import { KilnError } from '../../../core/errors.js';
import { type ComponentGraph, lockfileInvalid } from '../../graph.js';
import { rememberLast } from '../last-read.js';
import { hostNpmPlatform, type NpmPlatform } from '../npm/platform.js';
import type { PnpmLockfileVersion } from './dep-path.js';
import { buildPnpmGraph, type PnpmProject } from './lock-graph.js';
import { checkPnpmLockfile } from './lockfile-schema.js';

/** What a pnpm lockfile alone does not say: the platform, which project to describe, and the projects' names. */
export interface ReadPnpmLockfileOptions {
  /** Optional packages whose os/cpu/libc do not match are left out, as pnpm skips them. Default: this process's. */
  readonly platform?: NpmPlatform;
  /** The workspace project whose graph is built, as `importers` names it: '.' (default) or e.g. 'packages/util'. */
  readonly importer?: string;
  /**
   * Name and version of each project (importer path → its package.json's), which the lockfile does not record:
   * they name the graph's root and version linked workspace packages. Without an entry the root is named by its
   * importer path and a linked project by the dependency name, both without a version.
   */
  readonly projects?: Readonly<Record<string, PnpmProject>>;
  /** Leave out linked workspace projects' devDependencies (the graph of one package's artifact); default false. */
  readonly ownDevOnly?: boolean;
}

const VERSIONS: readonly PnpmLockfileVersion[] = ['6.0', '9.0'];
const REGENERATE_HINT = 'Regenerate it with `pnpm install --lockfile-only` and commit the result.';

/**
 * Reads a pnpm lockfile's text into a frozen ComponentGraph; `file` names it in errors and in the graph. Pure.
 * A lockfile written as several YAML documents (pnpm 11+ puts config and package-manager dependencies in a leading
 * "env" document) is read from its last document, the project's; the env document's packages are not the project's.
 */
export function readPnpmLockfile(text: string, file: string, options: ReadPnpmLockfileOptions = {}): ComponentGraph {
  const { lockfile, problems, digest } = checkedLockfile(text, file);
  const importer = options.importer ?? '.';
  if (!lockfile.importers.has(importer)) {
    const known = [...lockfile.importers.keys()].join(', ');
    if (options.importer === undefined) throw invalid(file, [`importers: has no "." (the root project); has ${known}`]);
    throw new KilnError('KILN_USAGE', `${file} has no importer "${importer}" (importers: ${known})`, {
      hint: 'Name the project by its directory relative to the lockfile, as the `importers` keys of pnpm-lock.yaml do.',
      details: { file, importer },
    });
  }
  const platform = () => options.platform ?? hostNpmPlatform();
  const lockfileId = { path: file, digest };
  const projects = options.projects ?? {};
  const built = buildPnpmGraph(lockfile, importer, projects, lockfileId, platform, options.ownDevOnly);
  if (built.graph === undefined || problems.length > 0) throw invalid(file, [...problems, ...built.problems]);
  return built.graph;
}

/** The lockfile parsed and checked (throws when it cannot be read at all); the last one is remembered. */
const checkedLockfile = rememberLast((text: string, file: string) => {
  const value = parseYaml(text, file);
  const lockfileVersion = value.lockfileVersion;
  const format = VERSIONS.find((v) => v === lockfileVersion);
  if (format === undefined) throw unknownVersion(file, lockfileVersion);
  const { lockfile, problems } = checkPnpmLockfile(value, format);
  if (lockfile === undefined) throw invalid(file, problems);
  return { lockfile, problems, digest: sha256Digest(text) };
});

function parseYaml(text: string, file: string): Record<string, unknown> {
  const docs = parseAllDocuments(text);
  const documents = Array.isArray(docs) ? docs : [];
  for (const doc of documents) {
    const err = doc.errors[0];
    if (err === undefined) continue;
    const { line, col } = err.linePos?.[0] ?? { line: 1, col: 1 };
    const reason = err.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
    throw new KilnError('KILN_LOCKFILE_INVALID', `${file}:${line}:${col}: not valid YAML: ${reason}`, {
      hint: `Fix the syntax error or restore the file from git. ${REGENERATE_HINT}`,
      details: { file, line, column: col },
    });
  }
  let value: unknown;
  try {
    value = documents.at(-1)?.toJS(); // refuses more than 100 alias expansions (pnpm writes no aliases)
  } catch (err) {
    throw new KilnError('KILN_LOCKFILE_INVALID', `${file}: not a readable lockfile: ${(err as Error).message}`, {
      hint: REGENERATE_HINT,
      cause: err,
      details: { file },
    });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(file, [`(top level): expected a mapping with lockfileVersion, got ${describe(value)}`]);
  }
  return value as Record<string, unknown>;
}

function unknownVersion(file: string, version: unknown): KilnError {
  const known = VERSIONS.map((v) => `'${v}'`).join(' and ');
  if (version === undefined) return invalid(file, [`lockfileVersion: missing (expected ${known})`]);
  const major = Number.parseFloat(String(version));
  const newer = Number.isFinite(major) && major > 9;
  return new KilnError(
    'KILN_LOCKFILE_INVALID',
    `${file} has lockfileVersion ${JSON.stringify(version)}; Kiln reads ${known} (pnpm 8, 9 and 10)`,
    {
      hint: newer
        ? 'Upgrade Kiln, or write the lockfile with pnpm 9 or 10.'
        : 'Regenerate it with pnpm 8 or newer: `npx pnpm@9 install --lockfile-only`, and commit the result.',
      details: { file, lockfileVersion: version },
    },
  );
}

function describe(value: unknown): string {
  if (value === undefined) return 'an empty file';
  if (value === null) return 'null';
  return Array.isArray(value) ? 'a sequence' : `a ${typeof value}`;
}

function invalid(file: string, allProblems: readonly string[]): KilnError {
  return lockfileInvalid(file, 'pnpm lockfile', allProblems, REGENERATE_HINT);
}
