// One kiln.yaml step template → one step per workspace package, ordered by the packages' own dependencies.
import { posix } from 'node:path';
import { KilnError } from '../../core/errors.js';
import type { PlannedStep } from '../types.js';
import { dependencyClosure } from './graph.js';
import type { WorkspacePackage } from './types.js';

/** A step written once for all packages: `script` (a package.json script) or `run` (a command), not both. */
export interface StepTemplate extends Omit<PlannedStep, 'run'> {
  readonly script?: string | undefined;
  readonly run?: string | undefined;
  /** Other (non-expanded) steps, kept as they are. */
  readonly needs: readonly string[];
  /** Relative to each package directory; `../` may reach up to, never past, the project root. */
  readonly inputs: readonly string[];
}

/** One expanded step: a planned step (named `<template>:<package>`, paths project-relative, `run` a self-contained
 * `sh -c` script run from the project directory) plus where it came from. */
export interface ExpandedStep extends PlannedStep {
  readonly template: string;
  readonly package: string;
  readonly dir: string;
  /** The directories `run` puts in front of PATH, in order (project-relative unless absolute). */
  readonly pathPrefix: readonly string[];
}

/** The `node_modules/.bin` of the package and of each directory above it up to the project root, as npm puts on PATH. */
export function npmBinDirs(pkg: Pick<WorkspacePackage, 'dir'>): string[] {
  const dirs: string[] = [];
  for (let dir = pkg.dir; dir !== '.' && dir !== ''; dir = posix.dirname(dir)) dirs.push(`${dir}/node_modules/.bin`);
  dirs.push('node_modules/.bin');
  return dirs;
}

/**
 * One step per package (per package that has `template.script`, when it is a script), named `<template>:<package>`,
 * needing the template's needs plus `<template>:<dep>` for every workspace package it depends on (transitively) that
 * has a step: their outputs are laid out in front of it where its node_modules links lead (`<dep dir>/dist`, …).
 * Inputs and outputs get the package directory in front; the package.json of each of those dependencies is an
 * input too (a workspace install links the package directory, and Node reads `main`/`exports` there).
 * `run` is, exactly (bin dirs from `opts.binDirs`; a relative one is anchored at `$PWD`, the project directory the
 * shell starts in):
 *
 *     PATH="$PWD/packages/a/node_modules/.bin:$PWD/node_modules/.bin:$PATH"; export PATH
 *     mkdir -p 'packages/a' && cd 'packages/a' || exit 1
 *     <script body>
 *
 * and, when the package also has `pre<script>` / `post<script>` (and `opts.prePost` is not false; yarn berry runs
 * neither), the three bodies chained like npm does, each in a subshell with its own `npm_lifecycle_event`:
 *
 *     (npm_lifecycle_event=prebuild; export npm_lifecycle_event
 *     <prebuild body>
 *     ) && (
 *     <build body>
 *     ) && (npm_lifecycle_event=postbuild; export npm_lifecycle_event
 *     <postbuild body>
 *     )
 *
 * The body runs directly, not through `npm run` (no npm process per step). Env: `npm_package_name`,
 * `npm_package_version` (when the package has one), `npm_lifecycle_event` (script templates), then the template's env.
 */
export function expandPerPackage(
  template: StepTemplate,
  packages: readonly WorkspacePackage[],
  opts: { binDirs: (pkg: WorkspacePackage) => string[]; prePost?: boolean },
): readonly ExpandedStep[] {
  const { script, run } = template;
  if ((script === undefined) === (run === undefined) || script === '' || run === '') {
    throw new KilnError('KILN_CONFIG_INVALID', `step "${template.name}" needs exactly one of "script" or "run"`, {
      hint: 'script: a package.json script run in each package that has it; run: a command run in every package',
    });
  }
  const selected = packages.filter((p) => script === undefined || p.scripts[script] !== undefined);
  const withStep = new Set(selected.map((p) => p.name));
  const closure = dependencyClosure(packages);
  const dirOf = new Map(packages.map((p) => [p.name, p.dir] as const));
  const steps = selected.map((pkg): ExpandedStep => {
    const pathPrefix = opts.binDirs(pkg);
    const body = script === undefined ? (run ?? '') : scriptChain(pkg, script, opts.prePost !== false);
    const deps = closure.get(pkg.name) ?? [];
    const upstream = deps.filter((dep) => withStep.has(dep)).map((dep) => `${template.name}:${dep}`);
    const manifests = deps.map((dep) => `${dirOf.get(dep)}/package.json`);
    return Object.freeze({
      name: `${template.name}:${pkg.name}`,
      template: template.name,
      package: pkg.name,
      dir: pkg.dir,
      run: `${pathLine(template.name, pathPrefix)}mkdir -p ${shellQuote(pkg.dir)} && cd ${shellQuote(pkg.dir)} || exit 1\n${body}`,
      pathPrefix: Object.freeze([...pathPrefix]),
      needs: Object.freeze([...new Set([...template.needs, ...upstream])]),
      inputs: Object.freeze([
        ...new Set([...template.inputs.map((p) => inPackage(template.name, pkg, p)), ...manifests]),
      ]),
      outputs: Object.freeze(template.outputs.map((p) => inPackage(template.name, pkg, p))),
      env: Object.freeze({
        npm_package_name: pkg.name,
        ...(pkg.version ? { npm_package_version: pkg.version } : {}),
        ...(script === undefined ? {} : { npm_lifecycle_event: script }),
        ...template.env,
      }),
      network: template.network,
      timeout: template.timeout,
      retries: template.retries,
    });
  });
  return Object.freeze(steps);
}

function scriptChain(pkg: WorkspacePackage, script: string, prePost: boolean): string {
  const main = pkg.scripts[script] ?? '';
  const pre = prePost ? pkg.scripts[`pre${script}`] : undefined;
  const post = prePost ? pkg.scripts[`post${script}`] : undefined;
  if (pre === undefined && post === undefined) return main;
  const event = (name: string) => `npm_lifecycle_event=${name}; export npm_lifecycle_event\n`;
  return [
    ...(pre === undefined ? [] : [`(${event(`pre${script}`)}${pre}\n)`]),
    `(\n${main}\n)`,
    ...(post === undefined ? [] : [`(${event(`post${script}`)}${post}\n)`]),
  ].join(' && ');
}

function pathLine(step: string, dirs: readonly string[]): string {
  if (dirs.length === 0) return '';
  for (const dir of dirs) {
    if (dir.includes(':') || dir.includes('\n')) {
      throw new KilnError('KILN_CONFIG_INVALID', `step "${step}": bin directory "${dir}" cannot go on PATH`, {
        hint: 'PATH entries cannot contain ":" or a newline; rename the directory',
      });
    }
  }
  const entries = dirs.map((d) => (d.startsWith('/') ? dq(d) : `$PWD/${dq(d)}`));
  return `PATH="${entries.join(':')}:$PATH"; export PATH\n`;
}

/** A package-relative path as a project-relative one; `../` may climb to the project root but not past it. */
function inPackage(step: string, pkg: WorkspacePackage, path: string): string {
  const joined = posix.normalize(`${pkg.dir}/${path}`).replace(/\/+$/, '');
  if (path.startsWith('/') || joined === '..' || joined.startsWith('../')) {
    throw new KilnError(
      'KILN_CONFIG_INVALID',
      `step "${step}": path "${path}" of package ${pkg.dir} leaves the project (it would be ${joined})`,
      {
        hint: `inputs are relative to each package; "../" may reach files up to the project root (from ${pkg.dir}: ${'../'.repeat(pkg.dir.split('/').length)}), not beyond`,
      },
    );
  }
  return joined;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function dq(s: string): string {
  return s.replace(/[\\"$`]/g, '\\$&');
}
