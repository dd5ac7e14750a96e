// npm's dev/optional flags (arborist's calcDepFlags) computed over a resolved graph, for lockfiles that lack them.
import type { ComponentScope } from '../../graph.js';

/** How an edge is declared: `dev` only from the root (devDependencies), `optional` from optionalDependencies. */
export type EdgeKind = 'prod' | 'dev' | 'optional';

/**
 * The scope npm/lock-graph.ts reads from npm's flags for each node 0…count-1: `dev` when no path from the root
 * avoids a dev edge, `optional` when none avoids an optional edge, `devOptional` (read as dev) when every path
 * has one or the other. Undefined for a node the root cannot reach: npm prunes those, the caller decides.
 */
export function yarnScopes(
  root: number,
  count: number,
  edges: ReadonlyMap<number, readonly { to: number; kind: EdgeKind }[]>,
): (ComponentScope | undefined)[] {
  const notDev = reach(root, edges, (k) => k !== 'dev');
  const notOptional = reach(root, edges, (k) => k !== 'optional');
  const prod = reach(root, edges, (k) => k === 'prod');
  const reached = reach(root, edges, () => true);
  return Array.from({ length: count }, (_, i): ComponentScope | undefined => {
    if (prod.has(i)) return 'runtime';
    if (!reached.has(i)) return undefined;
    if (!notDev.has(i)) return 'dev';
    return notOptional.has(i) ? 'dev' : 'optional'; // reached both ways but never by a plain path: devOptional
  });
}

function reach(
  root: number,
  edges: ReadonlyMap<number, readonly { to: number; kind: EdgeKind }[]>,
  follow: (kind: EdgeKind) => boolean,
): Set<number> {
  const seen = new Set<number>([root]);
  const queue = [root];
  for (let node = queue.pop(); node !== undefined; node = queue.pop()) {
    for (const e of edges.get(node) ?? []) {
      if (!follow(e.kind) || seen.has(e.to)) continue;
      seen.add(e.to);
      queue.push(e.to);
    }
  }
  return seen;
}
