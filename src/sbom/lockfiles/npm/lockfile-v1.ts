// npm 5/6 lockfiles (lockfileVersion 1): the nested `dependencies` tree, checked and laid out as v2/v3 locations.

import * as z from 'zod'; // a namespace import: `{ z }` would bundle all 64 zod locales
import { isRecord } from '../../../core/json.js';
import type { NpmInstallTree } from './lock-graph.js';
import { DependencyMap, formatPath, issuesToProblems, type NpmLockEntry } from './lockfile-schema.js';
import { resolveDependency } from './resolve.js';

const Children = z.record(z.string(), z.unknown());

/** One v1 `dependencies` entry; its own `dependencies` are the packages installed in its node_modules folder. */
const NpmV1Entry = z.looseObject({
  version: z.string(),
  resolved: z.string().optional(),
  integrity: z.string().optional(),
  bundled: z.boolean().optional(),
  dev: z.boolean().optional(),
  optional: z.boolean().optional(),
  /** The names this package requires (optional dependencies included), each resolved up the tree as Node does. */
  requires: DependencyMap.optional(),
  dependencies: Children.optional(),
});
type NpmV1Entry = z.infer<typeof NpmV1Entry>;

const NpmV1Head = z.looseObject({
  name: z.string().optional(),
  version: z.string().optional(),
  lockfileVersion: z.literal(1),
  dependencies: Children.optional(),
});

/** The root project's package.json fields a v1 lockfile does not record: which packages the project depends on. */
export const NpmManifest = z.looseObject({
  name: z.string().optional(),
  version: z.string().optional(),
  dependencies: DependencyMap.optional(),
  devDependencies: DependencyMap.optional(),
  optionalDependencies: DependencyMap.optional(),
  peerDependencies: DependencyMap.optional(),
});

/** A validated package.json: its fields and the file name problems with it are reported under. */
export interface CheckedManifest {
  readonly file: string;
  readonly entry: z.infer<typeof NpmManifest>;
}

const PATH_MAX = 4096; // a deeper node_modules path cannot be installed on Linux, so no real lockfile has one
const ALIAS_RE = /^npm:((?:@[^/@]+\/)?[^/@]+)@(.+)$/;

/**
 * Checks a v1 lockfile (fresh from JSON.parse), reporting every problem with its dot-path, and lays it out as
 * locations. v1 does not record the root's dependencies: they come from `manifest`, or without one are taken to
 * be the top-level packages nothing else requires (exact unless a direct dependency is also required by another).
 */
export function checkV1Lockfile(
  value: unknown,
  manifest: CheckedManifest | undefined,
): { tree?: NpmInstallTree; problems: string[] } {
  const head = NpmV1Head.safeParse(value);
  if (!head.success) return { problems: issuesToProblems(head.error.issues, []) };
  const packages = new Map<string, NpmLockEntry>();
  const paths = new Map<string, string>();
  const problems: string[] = [];
  // Walk the JSON.parse value itself, not zod's copies: a `__proto__` package stays an ordinary entry.
  const queue = [{ parent: '', path: [] as PropertyKey[], children: childrenOf(value) }];
  for (let i = 0; i < queue.length; i++) {
    const { parent, path, children } = queue[i] as (typeof queue)[number];
    for (const [name, raw] of Object.entries(children)) {
      const at = [...path, 'dependencies', name];
      const location = `${parent === '' ? '' : `${parent}/`}node_modules/${name}`;
      const parsed = NpmV1Entry.safeParse(raw);
      if (!isPackageName(name)) problems.push(`${formatPath(at)}: "${name}" is not an npm package name`);
      else if (location.length > PATH_MAX) problems.push(`${formatPath(at)}: nested deeper than a path can be`);
      else if (!parsed.success) problems.push(...issuesToProblems(parsed.error.issues, at));
      else {
        packages.set(location, lockEntryOf(raw as NpmV1Entry));
        paths.set(location, formatPath(at));
      }
      if (location.length <= PATH_MAX) queue.push({ parent: location, path: at, children: childrenOf(raw) });
    }
  }
  if (problems.length > 0) return { problems };
  packages.set('', manifest?.entry ?? { dependencies: unrequiredTopLevel(packages) });
  const tree: NpmInstallTree = {
    rootName: manifest?.entry.name ?? head.data.name,
    rootVersion: manifest?.entry.version ?? head.data.version ?? '',
    rootNamePath: manifest === undefined ? 'name' : `${manifest.file}: name`,
    packages,
    where: (location) => paths.get(location) ?? manifest?.file ?? '(root)',
  };
  return { tree, problems };
}

/** The `dependencies` of a head or entry, still unchecked where the entry itself is malformed; {} when unreadable. */
function childrenOf(value: unknown): Record<string, unknown> {
  const children = isRecord(value) ? value.dependencies : undefined;
  return isRecord(children) ? children : {};
}

/** A v1 entry as a v2/v3 one: `requires` are its dependencies; an alias (`npm:ms@2.0.0`) names the real package. */
function lockEntryOf(entry: NpmV1Entry): NpmLockEntry {
  const alias = ALIAS_RE.exec(entry.version);
  return {
    ...(alias === null ? { version: entry.version } : { name: alias[1], version: alias[2] }),
    resolved: entry.resolved,
    integrity: entry.integrity,
    dev: entry.dev,
    optional: entry.optional,
    dependencies: entry.requires,
  };
}

/** `name` or `@scope/name`, no other slashes, and no segment Node would read as a directory of its own. */
function isPackageName(name: string): boolean {
  const parts = name.split('/');
  if (parts.length > 2 || (parts.length === 2) !== name.startsWith('@')) return false;
  return parts.every((p) => p !== '' && p !== '.' && p !== '..' && p !== 'node_modules' && p !== '@');
}

/** The top-level packages no installed package resolves a `requires` to: the root's dependencies, as far as v1 says. */
function unrequiredTopLevel(packages: ReadonlyMap<string, NpmLockEntry>): Record<string, string> {
  const required = new Set<string>();
  for (const [location, entry] of packages) {
    for (const name of Object.keys(entry.dependencies ?? {})) {
      const r = resolveDependency(packages, location, name);
      if (r.kind === 'found') required.add(r.location);
    }
  }
  const top = [...packages.keys()].filter((l) => !l.includes('/node_modules/') && !required.has(l));
  return Object.fromEntries(top.map((l) => [l.slice('node_modules/'.length), '*']));
}
