// Node's module resolution over the locations of a lockfile's `packages` map (no file system needed).
import type { NpmLockEntry } from './lockfile-schema.js';

/** The outcome of looking a dependency name up from one location. */
export type Resolution =
  | { kind: 'found'; location: string }
  | { kind: 'missing' }
  | { kind: 'broken-link'; link: string; target: string | undefined };

/**
 * Resolves dependency `name` as Node would from the package at `from`: `from/node_modules/name`, then each
 * ancestor package folder's `node_modules/name`, then the root's. Links (`link: true`) resolve to their target.
 */
export function resolveDependency(packages: ReadonlyMap<string, NpmLockEntry>, from: string, name: string): Resolution {
  return dependencyResolver(packages, from)(name);
}

/** resolveDependency from `from` for any name, with the folders searched worked out once for all its dependencies. */
export function dependencyResolver(
  packages: ReadonlyMap<string, NpmLockEntry>,
  from: string,
): (name: string) => Resolution {
  const searched = packageFolders(from).map((base) => (base === '' ? 'node_modules/' : `${base}/node_modules/`));
  return (name) => {
    for (const folder of searched) {
      const candidate = `${folder}${name}`;
      if (packages.get(candidate) !== undefined) return followLink(packages, candidate);
    }
    return { kind: 'missing' };
  };
}

/** The real location of the package at `location`: itself, or a link's target. */
export function followLink(packages: ReadonlyMap<string, NpmLockEntry>, location: string): Resolution {
  const entry = packages.get(location);
  if (entry === undefined) return { kind: 'missing' };
  if (entry.link !== true) return { kind: 'found', location };
  const target = entry.resolved;
  const targetEntry = target === undefined ? undefined : packages.get(target);
  if (target === undefined || targetEntry === undefined || targetEntry.link === true) {
    return { kind: 'broken-link', link: location, target };
  }
  return { kind: 'found', location: target };
}

/** `a/node_modules/b` → [`a/node_modules/b`, `a`, ``]: the folders whose node_modules Node searches, nearest first. */
function packageFolders(location: string): string[] {
  const parts = location === '' ? [] : location.split('/');
  const folders: string[] = [];
  for (let i = parts.length; i >= 0; i--) {
    const last = parts[i - 1];
    if (last === 'node_modules') continue;
    if (last?.startsWith('@') && parts[i - 2] === 'node_modules') continue;
    folders.push(parts.slice(0, i).join('/'));
  }
  return folders;
}

/** True for locations outside any node_modules (the root, workspaces, in-repo links): npm installs their devDeps. */
export function isTopLocation(location: string): boolean {
  return !/(?:^|\/)node_modules(?:\/|$)/.test(location); // no path segment is node_modules
}

/** Matches locations against the root's `workspaces` globs (`packages/*`, `apps/**`, `!excluded`), as npm does. */
export function workspaceMatcher(patterns: readonly string[]): (location: string) => boolean {
  const include: RegExp[] = [];
  const exclude: RegExp[] = [];
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const glob = (negated ? raw.slice(1) : raw).replace(/^\.\//, '').replace(/\/+$/, '');
    (negated ? exclude : include).push(globToRegExp(glob));
  }
  return (location) => include.some((re) => re.test(location)) && !exclude.some((re) => re.test(location));
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
