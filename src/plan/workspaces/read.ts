// Workspace packages of an npm, yarn or pnpm monorepo, so one kiln.yaml step can run once per package.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { KilnError } from '../../core/errors.js';
import { globWorkspaceDirs, type WorkspaceGlob } from './glob.js';
import { findPackageCycle } from './graph.js';
import { compare, type Problem, parseJsonObject, problemsError, toPackage } from './manifest.js';
import type { WorkspacePackage } from './types.js';

export { type ExpandedStep, expandPerPackage, npmBinDirs, type StepTemplate } from './expand.js';
export { globWorkspaceDirs, type ListDirs, type WorkspaceGlob } from './glob.js';

export type { WorkspacePackage } from './types.js';

/** Reads a file as UTF-8; must reject with an error whose `code` is "ENOENT" when the file does not exist. */
export type ReadTextFile = (absPath: string) => Promise<string>;

/**
 * The workspace packages under `projectDir`, sorted by name: from `pnpm-workspace.yaml` `packages:` when that file
 * exists (pnpm), else from the root package.json `workspaces` (an array, or `{ packages: [...] }`: npm, yarn classic
 * and berry). `!pattern` excludes. A matched directory without package.json is not a package. An empty list when
 * the root package.json declares no workspaces. Throws KILN_CONFIG_INVALID listing every problem found.
 */
export async function readWorkspaces(
  projectDir: string,
  readFile: ReadTextFile = (p) => fsp.readFile(p, 'utf8'),
  glob: WorkspaceGlob = globWorkspaceDirs,
): Promise<readonly WorkspacePackage[]> {
  const patterns = await workspacePatterns(projectDir, readFile);
  if (patterns.length === 0) return [];
  const problems: Problem[] = [];
  const manifests: { dir: string; file: string; json: Record<string, unknown> }[] = [];
  const dirs = await glob(projectDir, patterns);
  // Read all manifests at once (a git-backed reader batches them into one process), then parse in order.
  const texts = await Promise.all(dirs.map((dir) => readOptional(readFile, join(projectDir, `${dir}/package.json`))));
  for (const [i, dir] of dirs.entries()) {
    const file = `${dir}/package.json`;
    const text = texts[i];
    if (text === undefined) continue;
    const json = parseJsonObject(text, file, problems);
    if (json) manifests.push({ dir, file, json });
  }
  const byName = new Map<string, string>();
  for (const { dir, file, json } of manifests) {
    if (typeof json.name !== 'string' || json.name === '') {
      problems.push({ file, message: 'has no "name"; every workspace package needs one' });
      continue;
    }
    const other = byName.get(json.name);
    if (other !== undefined) {
      problems.push({ file, message: `package name "${json.name}" is used by both ${other} and ${dir}` });
    }
    byName.set(json.name, dir);
  }
  const packages = manifests
    .filter(({ json }) => typeof json.name === 'string' && json.name !== '')
    .map(({ dir, file, json }) => toPackage(dir, file, json, byName, problems));
  if (problems.length > 0) throw problemsError(projectDir, problems);
  packages.sort((a, b) => compare(a.name, b.name) || compare(a.dir, b.dir));
  const cycle = findPackageCycle(packages);
  if (cycle) {
    const shown = cycle.map((name) => `${name} (${byName.get(name)})`).join(' → ');
    throw new KilnError('KILN_CONFIG_INVALID', `workspace packages depend on each other in a cycle: ${shown}`, {
      hint: 'steps run in dependency order, which a cycle does not have; drop one of these dependencies or move the shared code into a package both depend on',
      details: { cycle },
    });
  }
  return Object.freeze(packages);
}

async function workspacePatterns(projectDir: string, readFile: ReadTextFile): Promise<string[]> {
  const pnpm = await readOptional(readFile, join(projectDir, 'pnpm-workspace.yaml'));
  if (pnpm !== undefined) {
    let doc: unknown;
    try {
      doc = parseYaml(pnpm);
    } catch (err) {
      throw new KilnError('KILN_CONFIG_INVALID', `pnpm-workspace.yaml is not valid YAML: ${(err as Error).message}`, {
        cause: err,
        hint: 'fix the YAML syntax (pnpm itself would reject this file too)',
      });
    }
    const packages = (doc as { packages?: unknown } | null)?.packages;
    if (!isStringArray(packages) || packages.length === 0) {
      throw new KilnError('KILN_CONFIG_INVALID', 'pnpm-workspace.yaml has no "packages:" list of patterns', {
        hint: 'list the package directories, e.g. packages: ["packages/*", "!**/test/**"]',
      });
    }
    return packages;
  }
  const text = await readOptional(readFile, join(projectDir, 'package.json'));
  if (text === undefined) {
    throw new KilnError('KILN_CONFIG_NOT_FOUND', `no package.json or pnpm-workspace.yaml in ${projectDir}`, {
      hint: 'per-package steps need the root of an npm, yarn or pnpm workspace',
    });
  }
  const problems: Problem[] = [];
  const root = parseJsonObject(text, 'package.json', problems);
  if (!root) throw problemsError(projectDir, problems);
  const field = root.workspaces;
  if (field === undefined) return [];
  const patterns = Array.isArray(field) ? field : (field as { packages?: unknown } | null)?.packages;
  if (!isStringArray(patterns)) {
    throw new KilnError(
      'KILN_CONFIG_INVALID',
      'package.json "workspaces" is neither a list of patterns nor { packages: [...] }',
      {
        hint: 'write e.g. "workspaces": ["packages/*"]',
      },
    );
  }
  return patterns;
}

async function readOptional(readFile: ReadTextFile, path: string): Promise<string | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KilnError('KILN_IO', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}
