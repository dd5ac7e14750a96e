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
  /**
   * The root's `resolutions`: those naming a parent first, as yarn prefers them; `unread` says where the patterns are
   * that Kiln does not read (yarn 1's deeper paths; yarn 1's lockfile already records their effect).
   */
  readonly resolutions: { readonly rules: readonly YarnResolution[]; readonly unread: readonly string[] };
}

/** A name (and range) as a resolution pattern gives it: `ms`, `ms@^2.1.3`, `@types/ms@npm:^2`. */
export interface PatternPart {
  readonly name: string;
  readonly range?: string | undefined;
}

/** One `resolutions` entry: dependencies on `target` (of `parent` only, when given) resolve to range `to`. */
export interface YarnResolution {
  readonly parent?: PatternPart | undefined;
  readonly target: PatternPart;
  readonly to: string;
  /** `package.json: resolutions["is-odd/is-number"]`. */
  readonly where: string;
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
  const resolutions = resolutionsOf(value.resolutions, file);
  return { file, name, version, dependencies, workspaces: value.workspaces !== undefined, resolutions };
}

/**
 * `resolutions` as yarn berry reads them (parseResolution): `[parent/]target`, each `name` or `name@range`; a leading
 * `**` segment means any parent, as no parent does.
 */
function resolutionsOf(raw: unknown, file: string): YarnManifest['resolutions'] {
  const rules: YarnResolution[] = [];
  const unread: string[] = [];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { rules, unread };
  for (const [pattern, to] of Object.entries(raw)) {
    const where = `${file}: ${formatPath(['resolutions', pattern])}`;
    const parts = patternParts(pattern.replace(/^(\*\*\/)+/, ''));
    const [first, second] = parts ?? [];
    if (typeof to !== 'string' || first === undefined || (parts?.length ?? 0) > 2) unread.push(where);
    else rules.push(second === undefined ? { target: first, to, where } : { parent: first, target: second, to, where });
  }
  rules.sort((a, b) => Number(a.parent === undefined) - Number(b.parent === undefined));
  return { rules, unread };
}

/** `a@1/@s/b@2` → [{a, 1}, {@s/b, 2}]: segments split at `/`, a scope joined with its name. */
function patternParts(pattern: string): PatternPart[] | undefined {
  const segments = pattern.split('/');
  const parts: PatternPart[] = [];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    const whole = segment.startsWith('@') ? `${segment}/${segments[++i] ?? ''}` : segment;
    const at = whole.indexOf('@', 1);
    const name = at < 0 ? whole : whole.slice(0, at);
    if (name === '' || name.endsWith('/')) return undefined;
    parts.push(at < 0 ? { name } : { name, range: whole.slice(at + 1) });
  }
  return parts;
}
