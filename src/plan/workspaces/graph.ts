// Dependency-graph helpers over workspace packages: cycles (refused) and the nearest dependencies that have a step.
import { findCycle } from '../../config/graph.js';

/** The part of a workspace package the graph helpers look at. */
export interface PackageNode {
  readonly name: string;
  readonly dependsOn: readonly string[];
}

/** The first dependency cycle between packages, as `[a, b, …, a]`; undefined for a DAG. */
export function findPackageCycle(packages: readonly PackageNode[]): string[] | undefined {
  return findCycle(new Map(packages.map((p) => [p.name, p.dependsOn] as const)));
}

/**
 * For each package, the dependencies that have a step, looking through dependencies that have none (as Turborepo's
 * `^build` does): if a → b → c and only b lacks the script, a's step still waits for c's. Sorted; assumes a DAG.
 */
export function nearestWithStep(
  packages: readonly PackageNode[],
  hasStep: (name: string) => boolean,
): Map<string, readonly string[]> {
  const deps = new Map(packages.map((p) => [p.name, p.dependsOn] as const));
  const memo = new Map<string, ReadonlySet<string>>();
  const reach = (name: string): ReadonlySet<string> => {
    const known = memo.get(name);
    if (known) return known;
    const out = new Set<string>();
    for (const dep of deps.get(name) ?? []) {
      if (dep === name || !deps.has(dep)) continue;
      if (hasStep(dep)) out.add(dep);
      else for (const through of reach(dep)) out.add(through);
    }
    memo.set(name, out);
    return out;
  };
  return new Map(packages.map((p) => [p.name, [...reach(p.name)].sort()] as const));
}
