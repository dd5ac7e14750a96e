// The steps a build runs: kiln.yaml steps as written, with perPackage templates expanded over the workspace
// packages of the checked-out tree, checked again as a graph and put in dependency order.
import { checkGraph, type KilnConfig, topoOrder } from '../config/index.js';
import { KilnError } from '../core/errors.js';
import type { PlannedStep } from './types.js';
import { expandPerPackage, npmBinDirs } from './workspaces/expand.js';
import { globWorkspaceDirs, type ListDirs } from './workspaces/glob.js';
import { dependencyClosure } from './workspaces/graph.js';
import { readWorkspaces } from './workspaces/read.js';

export type { PlannedStep } from './types.js';

/** Expands and orders the steps of `config` for the project checked out at `projectDir`. */
export async function planSteps(
  config: KilnConfig,
  projectDir: string,
  files?: { readFile: (absPath: string) => Promise<Buffer>; listDirs: ListDirs },
): Promise<PlannedStep[]> {
  const templates = Object.entries(config.steps).filter(([, s]) => s.perPackage);
  const packages =
    templates.length === 0
      ? []
      : files
        ? await readWorkspaces(
            projectDir,
            async (p) => (await files.readFile(p)).toString('utf8'),
            (dir, patterns) => globWorkspaceDirs(dir, patterns, files.listDirs),
          )
        : await readWorkspaces(projectDir);
  if (templates.length > 0 && packages.length === 0) {
    throw new KilnError(
      'KILN_CONFIG_INVALID',
      `step ${templates[0]?.[0]} has perPackage: true, but the project has no workspace packages`,
      {
        hint: 'declare workspaces in package.json (npm, yarn) or pnpm-workspace.yaml (pnpm), or drop perPackage',
      },
    );
  }
  const byName = new Map<string, PlannedStep>();
  const expandedNames = new Map<string, string[]>();
  const packageOf = new Map<string, string>();
  for (const [name, step] of Object.entries(config.steps)) {
    if (!step.perPackage) {
      byName.set(name, plannedStep({ ...step, name, run: step.run ?? '' }));
      continue;
    }
    const expanded = expandPerPackage({ name, ...step }, packages, { binDirs: npmBinDirs });
    expandedNames.set(
      name,
      expanded.map((e) => e.name),
    );
    for (const e of expanded) {
      packageOf.set(e.name, e.package);
      byName.set(e.name, plannedStep(e));
    }
  }
  // A need on a template: a package's step needs that template's steps of the same package and of every package it
  // depends on (`test` of b needing `build` gets a's dist/ too, as a workspace install would show it); any other
  // step needs all of its package steps.
  const closure = dependencyClosure(packages);
  const resolveNeed = (step: string, need: string): string[] => {
    const all = expandedNames.get(need);
    if (!all) return [need];
    const pkg = packageOf.get(step);
    if (pkg === undefined) return all;
    const wanted = new Set([pkg, ...(closure.get(pkg) ?? [])]);
    return all.filter((n) => wanted.has(packageOf.get(n) ?? ''));
  };
  const steps = [...byName.values()].map((s) => ({ ...s, needs: s.needs.flatMap((n) => resolveNeed(s.name, n)) }));
  const shape = {
    steps: Object.fromEntries(steps.map((s) => [s.name, { needs: s.needs, outputs: s.outputs }])),
    artifacts: config.artifacts,
  };
  const problems = checkGraph(shape);
  if (problems.length > 0) {
    const lines = problems.map((p) => `  ${p.path.join('.')}: ${p.message}`);
    throw new KilnError(
      'KILN_CONFIG_INVALID',
      `the expanded steps of kiln.yaml have ${problems.length} problem(s):\n${lines.join('\n')}`,
      {
        hint: 'perPackage steps are named <step>:<package name>; check artifact `from` and `needs` against the workspace packages',
      },
    );
  }
  const planned = new Map(steps.map((s) => [s.name, s]));
  return topoOrder(shape).map((name) => planned.get(name) as PlannedStep);
}

/** Just the executor's fields of a step (config steps and expanded package steps carry more). */
function plannedStep(s: PlannedStep): PlannedStep {
  const { name, run, needs, inputs, outputs, env, network, timeout, retries } = s;
  return { name, run, needs, inputs, outputs, env, network, timeout, retries };
}
