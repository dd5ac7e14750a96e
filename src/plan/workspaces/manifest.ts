// package.json files of workspace packages, validated once: every problem is collected, each with its file.
import { KilnError } from '../../core/errors.js';
import type { WorkspacePackage } from './types.js';

const DEP_FIELDS = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'] as const;

/** A problem in one workspace file, reported together with all others. */
export interface Problem {
  readonly file: string;
  readonly message: string;
}

/** The package a parsed package.json describes; problems with its fields go to `problems`. */
export function toPackage(
  dir: string,
  file: string,
  json: Record<string, unknown>,
  byName: ReadonlyMap<string, string>,
  problems: Problem[],
): WorkspacePackage {
  const name = json.name as string;
  if (json.version !== undefined && typeof json.version !== 'string') {
    problems.push({ file, message: '"version" must be a string' });
  }
  const scripts: Record<string, string> = {};
  for (const [script, body] of Object.entries(stringRecord(json.scripts, file, 'scripts', problems))) {
    if (body !== '') scripts[script] = body; // npm treats an empty script as missing
  }
  const dependsOn = new Set<string>();
  for (const field of DEP_FIELDS) {
    for (const dep of Object.keys(stringRecord(json[field], file, field, problems))) {
      if (dep !== name && byName.has(dep)) dependsOn.add(dep);
    }
  }
  return Object.freeze({
    name,
    dir,
    version: typeof json.version === 'string' ? json.version : '',
    scripts: Object.freeze(scripts),
    dependsOn: Object.freeze([...dependsOn].sort(compare)),
  });
}

function stringRecord(value: unknown, file: string, field: string, problems: Problem[]): Record<string, string> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problems.push({ file, message: `"${field}" must be an object of strings` });
    return {};
  }
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === 'string') out[key] = v;
    else
      problems.push({ file, message: `"${field}.${key}" must be a string (found ${v === null ? 'null' : typeof v})` });
  }
  return out;
}

/** The JSON object in `text`, or undefined with the reason added to `problems`. */
export function parseJsonObject(text: string, file: string, problems: Problem[]): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    problems.push({ file, message: `is not valid JSON: ${(err as Error).message}` });
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problems.push({ file, message: 'must hold a JSON object' });
    return undefined;
  }
  return value as Record<string, unknown>;
}

/** One KILN_CONFIG_INVALID listing every problem, sorted by file. */
export function problemsError(projectDir: string, unsorted: readonly Problem[]): KilnError {
  const problems = [...unsorted].sort((a, b) => compare(a.file, b.file));
  const lines = problems.map((p) => `  ${p.file}: ${p.message}`);
  return new KilnError(
    'KILN_CONFIG_INVALID',
    `workspace in ${projectDir} has ${problems.length} problem(s):\n${lines.join('\n')}`,
    {
      hint: 'fix these package.json files; npm, yarn and pnpm read them the same way',
      details: { problems: problems.map((p) => ({ ...p })) },
    },
  );
}

/** Code-unit order, the same on every machine and locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
