// Declared inputs → the exact, sorted list of files they match, each with its digest (an action key ingredient).
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { type Digest, sha256Digest, sha256File } from '../core/digest.js';

/** One input file as it enters an action key. */
export interface InputFile {
  readonly path: string;
  readonly digest: Digest;
  readonly executable: boolean;
}

/** Files under `root` matching any pattern (`**`, `*`, `?`, or a plain file or directory path), sorted, `.git` excluded. */
export async function expandInputs(root: string, patterns: readonly string[]): Promise<InputFile[]> {
  const matchers = patterns.map(patternMatcher);
  const found = new Map<string, InputFile>();
  for (const start of new Set(patterns.map(staticPrefix))) {
    for await (const path of walk(root, start)) {
      if (found.has(path) || !matchers.some((m) => m(path))) continue;
      found.set(path, await describe(root, path));
    }
  }
  return [...found.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** True for a path (relative, POSIX) that `pattern` selects; a plain directory selects everything below it. */
export function patternMatcher(pattern: string): (path: string) => boolean {
  const clean = pattern.replace(/^\.\//, '').replace(/\/+$/, '');
  if (!/[*?]/.test(clean)) return (path) => path === clean || path.startsWith(`${clean}/`);
  let re = '';
  for (let i = 0; i < clean.length; i++) {
    const c = clean[i] ?? '';
    if (c === '*' && clean[i + 1] === '*') {
      const slash = clean[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const regex = new RegExp(`^${re}(?:/.*)?$`);
  return (path) => regex.test(path);
}

/** The directory part of a pattern before its first wildcard: only that subtree needs walking. */
function staticPrefix(pattern: string): string {
  const clean = pattern.replace(/^\.\//, '').replace(/\/+$/, '');
  const wild = clean.search(/[*?]/);
  const fixed = wild === -1 ? clean : clean.slice(0, wild);
  return wild === -1 ? fixed : fixed.slice(0, fixed.lastIndexOf('/') + 1).replace(/\/$/, '');
}

async function* walk(root: string, rel: string): AsyncGenerator<string> {
  const stat = await fsp.lstat(join(root, rel)).catch(() => undefined);
  if (!stat) return;
  if (!stat.isDirectory()) {
    yield rel;
    return;
  }
  const names = await fsp.readdir(join(root, rel));
  for (const name of names.sort()) {
    if (name === '.git' && rel === '') continue;
    yield* walk(root, rel ? `${rel}/${name}` : name);
  }
}

async function describe(root: string, path: string): Promise<InputFile> {
  const full = join(root, path);
  const stat = await fsp.lstat(full);
  if (stat.isSymbolicLink()) {
    return { path, digest: sha256Digest(`symlink:${await fsp.readlink(full)}`), executable: false };
  }
  return { path, digest: (await sha256File(full)).digest, executable: (stat.mode & 0o111) !== 0 };
}
