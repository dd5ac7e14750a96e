// Graph rules over a schema-valid config: unknown needs, cycles, artifact sources, duplicate names.
import type { KilnConfig } from './schema.js';
import { closest } from './suggest.js';

/** A graph problem with the path of the offending value (located by the caller). */
export interface GraphProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** Every graph problem in the config; empty when the step DAG and artifacts are sound. */
export function checkGraph(config: KilnConfig): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const names = Object.keys(config.steps);
  const unknown = (name: string) => {
    const hint = closest(name, names);
    return `unknown step "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}; steps are: ${names.join(', ')}`;
  };
  for (const [name, step] of Object.entries(config.steps)) {
    step.needs.forEach((need, i) => {
      if (!(need in config.steps)) problems.push({ path: ['steps', name, 'needs', i], message: unknown(need) });
      else if (need === name)
        problems.push({ path: ['steps', name, 'needs', i], message: 'a step cannot need itself' });
    });
  }
  const cycle = findCycle(config);
  if (cycle) {
    problems.push({ path: ['steps', cycle[0] ?? ''], message: `dependency cycle: ${cycle.join(' → ')}` });
  }
  const seen = new Set<string>();
  config.artifacts.forEach((artifact, i) => {
    if (seen.has(artifact.name)) {
      problems.push({ path: ['artifacts', i, 'name'], message: `duplicate artifact name "${artifact.name}"` });
    }
    seen.add(artifact.name);
    if (!(artifact.from in config.steps)) {
      problems.push({ path: ['artifacts', i, 'from'], message: unknown(artifact.from) });
    }
  });
  return problems;
}

/** Step names in an order where every step comes after the steps it needs (stable: by name within a level). */
export function topoOrder(config: KilnConfig): string[] {
  const order: string[] = [];
  const done = new Set<string>();
  const visit = (name: string) => {
    if (done.has(name)) return;
    done.add(name);
    for (const need of [...(config.steps[name]?.needs ?? [])].sort()) visit(need);
    order.push(name);
  };
  for (const name of Object.keys(config.steps).sort()) visit(name);
  return order;
}

function findCycle(config: KilnConfig): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const need of config.steps[name]?.needs ?? []) {
      if (need === name || !(need in config.steps)) continue;
      const found = visit(need);
      if (found) return found;
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const name of Object.keys(config.steps).sort()) {
    const found = visit(name);
    if (found) return found;
  }
  return undefined;
}
