// A Python lockfile's graph as the build installs it: which packages markers leave out, and the scope of the rest.
import type { ComponentScope } from '../../graph.js';
import type { MarkerTruth } from './markers.js';

/**
 * Each node's scope: `runtime` if a main dependency of the project reaches it, else `optional` if an extra's does,
 * else `dev` if a development group's does; nodes nothing reaches get `unreached` (the lockfile lists them, so they
 * are kept, as needed at run time unless the caller knows better).
 */
export function propagatePythonScopes(
  edges: ReadonlyMap<string, readonly string[]>,
  roots: { readonly main: Iterable<string>; readonly optional: Iterable<string>; readonly dev: Iterable<string> },
  unreached: ComponentScope = 'runtime',
): Map<string, ComponentScope> {
  const scopes = new Map<string, ComponentScope>();
  const order: [ComponentScope, Iterable<string>][] = [
    ['runtime', roots.main],
    ['optional', roots.optional],
    ['dev', roots.dev],
  ];
  for (const [scope, starts] of order) {
    const queue = [...starts].filter((s) => !scopes.has(s));
    for (const s of queue) scopes.set(s, scope);
    while (queue.length > 0) {
      const next = queue.pop() ?? '';
      for (const to of edges.get(next) ?? []) {
        if (scopes.has(to)) continue;
        scopes.set(to, scope);
        queue.push(to);
      }
    }
  }
  for (const node of edges.keys()) if (!scopes.has(node)) scopes.set(node, unreached);
  return scopes;
}

/** One dependency edge, and whether its marker holds where the build installs (true when it has none). */
export interface MarkedEdge {
  readonly to: string;
  readonly when: MarkerTruth;
}

/** The project's own dependencies by kind (edges or refs), as `propagatePythonScopes` takes them. */
export interface ProjectStarts<T> {
  readonly main: readonly T[];
  readonly optional: readonly T[];
  readonly dev: readonly T[];
}

/**
 * The graph as installed on the build platform. Left out: each package whose own marker is false, and each that the
 * project's dependencies (`starts`) reach only over edges whose marker is false. A package nothing depends on is a
 * start of its own (the lockfile lists it; nothing says when it is needed), and so is a cycle nothing reaches. An
 * edge or package whose marker is unknown counts as installed: the SBOM keeps what may be. The edges and starts
 * left are given as refs, without false edges and edges to packages left out.
 */
export function installedPythonGraph(
  packages: ReadonlyMap<string, MarkerTruth>,
  edges: ReadonlyMap<string, readonly MarkedEdge[]>,
  starts: ProjectStarts<MarkedEdge>,
): { leftOut: Set<string>; edges: Map<string, string[]>; starts: ProjectStarts<string> } {
  const live = (e: MarkedEdge) => e.when !== false && packages.get(e.to) !== false;
  const reach = (from: Iterable<string>, follow: (e: MarkedEdge) => boolean) => {
    const seen = new Set(from);
    for (const node of seen) for (const e of edges.get(node) ?? []) if (follow(e)) seen.add(e.to);
    return seen;
  };
  const allStarts = [...starts.main, ...starts.optional, ...starts.dev];
  const dependedOn = new Set([...allStarts, ...[...edges.values()].flat()].map((e) => e.to));
  const free = [...packages.keys()].filter((p) => !dependedOn.has(p));
  const reached = reach([...allStarts.map((e) => e.to), ...free], () => true);
  const unreached = [...packages.keys()].filter((p) => !reached.has(p));
  const roots = [...allStarts.filter(live).map((e) => e.to), ...free, ...unreached];
  const installed = reach(
    roots.filter((p) => packages.get(p) !== false),
    live,
  );
  const leftOut = new Set([...packages.keys()].filter((p) => !installed.has(p)));
  const kept = (list: readonly MarkedEdge[]) => [
    ...new Set(list.filter((e) => e.when !== false && !leftOut.has(e.to)).map((e) => e.to)),
  ];
  return {
    leftOut,
    edges: new Map([...edges].map(([from, list]) => [from, kept(list)])),
    starts: { main: kept(starts.main), optional: kept(starts.optional), dev: kept(starts.dev) },
  };
}
