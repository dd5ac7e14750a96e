// npm's dev/optional/devOptional flags (arborist's calcDepFlags) over any dependency graph, so that a pnpm
// lockfile, which records no such flags in 9.0, gets the scopes npm would give the same tree.
import type { ComponentScope } from '../../graph.js';

/** How an edge was declared: `dev` only from projects, `optional` for optionalDependencies and optional peers. */
export type DependencyKind = 'prod' | 'optional' | 'dev';

/** One resolved dependency edge between graph nodes. */
export interface KindedEdge {
  readonly to: string;
  readonly kind: DependencyKind;
}

/** Each node reachable from `root`, with npm's flags: whether every path to it passes a dev or an optional edge. */
export interface DepFlags {
  readonly dev: boolean;
  readonly optional: boolean;
  readonly scope: ComponentScope;
}

/**
 * dev = no path from the root avoids dev edges; optional = none avoids optional edges; devOptional = none avoids
 * both. Scope as the npm reader maps the lockfile flags: dev or devOptional → 'dev', optional → 'optional'.
 */
export function dependencyFlags(
  edges: ReadonlyMap<string, readonly KindedEdge[]>,
  root: string,
): Map<string, DepFlags> {
  const all = reach(edges, root, () => true);
  const notDev = reach(edges, root, (k) => k !== 'dev');
  const notOptional = reach(edges, root, (k) => k !== 'optional');
  const plain = reach(edges, root, (k) => k === 'prod');
  const flags = new Map<string, DepFlags>();
  for (const node of all) {
    const dev = !notDev.has(node);
    const optional = !notOptional.has(node);
    const scope: ComponentScope = dev ? 'dev' : optional ? 'optional' : plain.has(node) ? 'runtime' : 'dev';
    flags.set(node, { dev, optional, scope });
  }
  return flags;
}

function reach(
  edges: ReadonlyMap<string, readonly KindedEdge[]>,
  root: string,
  follow: (kind: DependencyKind) => boolean,
): Set<string> {
  const seen = new Set([root]);
  for (const node of seen) {
    for (const e of edges.get(node) ?? []) if (follow(e.kind)) seen.add(e.to);
  }
  return seen;
}
