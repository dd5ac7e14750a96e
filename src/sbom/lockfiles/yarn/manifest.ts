// The project's package.json as yarn readers need it: name, version and which dependencies are prod, dev or optional.
import { KilnError } from '../../../core/errors.js';
import { parseJsonText } from '../../../core/json-text.js';
import { escapeForTerminal } from '../../../core/terminal.js';
import { formatPath, issuesToProblems } from '../npm/lockfile-schema.js';
import { NpmManifest } from '../npm/lockfile-v1.js';
import type { EdgeKind } from './scope.js';

/** One dependency the project declares: `range` as written in package.json. */
export interface ManifestDependency {
  readonly name: string;
  readonly range: string;
  readonly kind: EdgeKind;
  /** `package.json: devDependencies["@types/node"]`. */
  readonly where: string;
}

/** What a yarn.lock does not say about the root project. */
export interface YarnManifest {
  readonly file: string;
  readonly name: string | undefined;
  readonly version: string;
  readonly dependencies: readonly ManifestDependency[];
  /** True when it declares `workspaces`. */
  readonly workspaces: boolean;
}

const SECTIONS = ['optionalDependencies', 'dependencies', 'devDependencies'] as const;
const KIND: Readonly<Record<(typeof SECTIONS)[number], EdgeKind>> = {
  optionalDependencies: 'optional',
  dependencies: 'prod',
  devDependencies: 'dev',
};

/**
 * Reads package.json (throws a located KILN_LOCKFILE_INVALID when it is not JSON or not a manifest). A name in several
 * sections counts once, as npm counts it: optional over prod over dev.
 */
export function readYarnManifest(manifest: { readonly text: string; readonly file: string }): YarnManifest {
  const { file } = manifest;
  const parsed = parseJsonText(manifest.text);
  if (!parsed.ok) {
    throw new KilnError(
      'KILN_LOCKFILE_INVALID',
      `${file}:${parsed.line}:${parsed.column}: not valid JSON: ${parsed.reason}`,
      {
        hint: 'Fix the syntax error in package.json or restore it from git.',
        details: { file, line: parsed.line, column: parsed.column },
      },
    );
  }
  const checked = NpmManifest.safeParse(parsed.value);
  if (!checked.success) {
    const problems = issuesToProblems(checked.error.issues, []);
    throw new KilnError(
      'KILN_LOCKFILE_INVALID',
      `${file} is not a valid package.json:\n  ${problems.map((p) => escapeForTerminal(p)).join('\n  ')}`,
      {
        hint: 'Dependencies must map package names to version strings; fix package.json, then run `yarn install`.',
        details: { file, problems },
      },
    );
  }
  const value = parsed.value as Record<string, unknown>; // the JSON.parse value: a `__proto__` name stays a name
  const seen = new Set<string>();
  const dependencies: ManifestDependency[] = [];
  for (const section of SECTIONS) {
    const deps = (value[section] ?? {}) as Record<string, string>;
    for (const [name, range] of Object.entries(deps)) {
      if (seen.has(name)) continue;
      seen.add(name);
      dependencies.push({ name, range, kind: KIND[section], where: `${file}: ${formatPath([section, name])}` });
    }
  }
  const { name, version = '' } = checked.data;
  return { file, name, version, dependencies, workspaces: value.workspaces !== undefined };
}
