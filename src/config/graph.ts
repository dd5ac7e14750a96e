// Graph rules over a schema-valid config: unknown needs, cycles, artifact sources, duplicate names.
import { closest } from '../core/suggest.js';

/** A graph problem with the path of the offending value (located by the caller). */
export interface GraphProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** The part of a config the graph rules look at; also extractable from a config that failed the schema. */
export interface GraphShape {
  readonly steps: Readonly<
    Record<
      string,
      { readonly needs: readonly string[]; readonly outputs: readonly string[]; readonly perPackage?: boolean }
    >
  >;
  readonly artifacts: readonly {
    readonly name: string;
    readonly from: string;
    readonly path: string;
    readonly format?: string;
  }[];
}

/** Best-effort graph shape of an unvalidated document, so graph problems are reported along with schema problems. */
export function graphShapeOf(raw: unknown): GraphShape {
  const doc = (raw ?? {}) as { steps?: unknown; artifacts?: unknown };
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((n): n is string => typeof n === 'string') : []);
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const steps: Record<string, { needs: string[]; outputs: string[]; perPackage: boolean }> = {};
  if (doc.steps && typeof doc.steps === 'object' && !Array.isArray(doc.steps)) {
    for (const [name, step] of Object.entries(doc.steps)) {
      const s = step as { needs?: unknown; outputs?: unknown; perPackage?: unknown } | null;
      steps[name] = { needs: strings(s?.needs), outputs: strings(s?.outputs), perPackage: s?.perPackage === true };
    }
  }
  const artifacts = Array.isArray(doc.artifacts)
    ? doc.artifacts.map((a: { name?: unknown; from?: unknown; path?: unknown } | null) => ({
        name: str(a?.name),
        from: str(a?.from),
        path: str(a?.path),
        format: str((a as { format?: unknown } | null)?.format) || 'tgz',
      }))
    : [];
  return { steps, artifacts };
}

/** Every graph problem in the config; empty when the step DAG and artifacts are sound. */
export function checkGraph(config: GraphShape): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const names = Object.keys(config.steps);
  const unknown = (name: string) => {
    const hint = closest(name, names);
    return `unknown step "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}; steps are: ${names.join(', ')}`;
  };
  // `build:<package>` names a step of a perPackage template: it exists only once the workspace is read.
  const deferred = (ref: string) => config.steps[ref.split(':')[0] ?? '']?.perPackage === true && ref.includes(':');
  for (const [name, step] of Object.entries(config.steps)) {
    step.needs.forEach((need, i) => {
      if (deferred(need)) return;
      if (!(need in config.steps)) problems.push({ path: ['steps', name, 'needs', i], message: unknown(need) });
      else if (need === name)
        problems.push({ path: ['steps', name, 'needs', i], message: 'a step cannot need itself' });
    });
  }
  const cycle = findCycle(new Map(Object.entries(config.steps).map(([name, step]) => [name, step.needs])));
  if (cycle) {
    problems.push({ path: ['steps', cycle[0] ?? ''], message: `dependency cycle: ${cycle.join(' → ')}` });
  }
  const seen = new Set<string>();
  const files = new Map<string, number>();
  config.artifacts.forEach((artifact, i) => {
    if (artifact.name && seen.has(artifact.name)) {
      problems.push({ path: ['artifacts', i, 'name'], message: `duplicate artifact name "${artifact.name}"` });
    }
    seen.add(artifact.name);
    const file = artifactFileName(artifact);
    const other = files.get(file);
    if (artifact.path && other !== undefined) {
      problems.push({
        path: ['artifacts', i, 'path'],
        message: `delivers ${file}, as artifacts[${other}] does; give one of them another name or path`,
      });
    }
    files.set(file, i);
    if (deferred(artifact.from)) return;
    const step = config.steps[artifact.from];
    if (artifact.from && !step) {
      problems.push({ path: ['artifacts', i, 'from'], message: unknown(artifact.from) });
    } else if (step && artifact.path && !step.outputs.some((o) => covers(o, artifact.path))) {
      problems.push({
        path: ['artifacts', i, 'path'],
        message: `${artifact.path} is not among the outputs of step "${artifact.from}" (declared: ${step.outputs.join(', ') || 'none'}); add it to that step's outputs`,
      });
    }
  });
  return problems;
}

/** The file an artifact is delivered as: `<name>.tgz` for tgz, the path's base name for a single file. */
export function artifactFileName(artifact: { name: string; path: string; format?: string }): string {
  return artifact.format === 'file'
    ? (artifact.path.replace(/\/+$/, '').split('/').pop() ?? artifact.name)
    : `${artifact.name}.tgz`;
}

/** Step names in an order where every step comes after the steps it needs (stable: by name within a level).
 * Iterative, so a chain of thousands of steps cannot overflow the call stack. */
export function topoOrder(config: GraphShape): string[] {
  const order: string[] = [];
  const done = new Set<string>();
  for (const root of Object.keys(config.steps).sort()) {
    if (done.has(root)) continue;
    done.add(root);
    const stack = [{ name: root, needs: [...(config.steps[root]?.needs ?? [])].sort(), next: 0 }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as (typeof stack)[number];
      const need = top.needs[top.next++];
      if (need === undefined) {
        stack.pop();
        order.push(top.name);
      } else if (!done.has(need)) {
        done.add(need);
        stack.push({ name: need, needs: [...(config.steps[need]?.needs ?? [])].sort(), next: 0 });
      }
    }
  }
  return order;
}

function covers(output: string, path: string): boolean {
  const o = output.replace(/\/+$/, '');
  const p = path.replace(/\/+$/, '');
  return o === p || p.startsWith(`${o}/`) || o === '.';
}

/** The first cycle of a dependency graph (visiting names in sorted order) as `[a, b, …, a]`; undefined for a DAG.
 * Edges to unknown names and self-edges are ignored (they are reported elsewhere). */
export function findCycle(edges: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  for (const root of [...edges.keys()].sort()) {
    if (state.has(root)) continue;
    // An explicit stack (the path being walked), so a chain of thousands of names cannot overflow the call stack.
    const path = [{ name: root, next: 0 }];
    state.set(root, 'visiting');
    while (path.length > 0) {
      const top = path[path.length - 1] as (typeof path)[number];
      const next = edges.get(top.name)?.[top.next++];
      if (next === undefined) {
        path.pop();
        state.set(top.name, 'done');
      } else if (next !== top.name && edges.has(next) && state.get(next) !== 'done') {
        if (state.get(next) === 'visiting') {
          const names = path.map((p) => p.name);
          return [...names.slice(names.indexOf(next)), next];
        }
        state.set(next, 'visiting');
        path.push({ name: next, next: 0 });
      }
    }
  }
  return undefined;
}
