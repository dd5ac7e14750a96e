// Scopes from the project's direct dependencies when a Python lockfile does not mark them: what main reaches ships.
import type { ComponentScope } from './graph.js';

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
