// Dependency-graph helpers over workspace packages: cycles (refused) and what each package depends on, transitively.
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
 * For each package, every workspace package it depends on, directly or through others, sorted. A package's step
 * gets all of them in front of it: its code loads theirs through node_modules links, and theirs load their own.
 * Assumes a DAG.
 */
export function dependencyClosure(packages: readonly PackageNode[]): Map<string, readonly string[]> {
  const deps = new Map(packages.map((p) => [p.name, p.dependsOn] as const));
  const memo = new Map<string, ReadonlySet<string>>();
  const reach = (name: string): ReadonlySet<string> => {
    const known = memo.get(name);
    if (known) return known;
    const out = new Set<string>();
    for (const dep of deps.get(name) ?? []) {
      if (dep === name || !deps.has(dep)) continue;
      out.add(dep);
      for (const through of reach(dep)) out.add(through);
    }
    memo.set(name, out);
    return out;
  };
  return new Map(packages.map((p) => [p.name, [...reach(p.name)].sort()] as const));
}
