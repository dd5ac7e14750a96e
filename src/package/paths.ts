// Path checks on step outputs, done against the real file system: a step controls those files, so text is not enough.
import { promises as fsp } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { KilnError } from '../core/errors.js';

/** `root/rel` after checking no component of `rel` is a symlink (so an artifact cannot point Kiln elsewhere). */
export async function resolveInside(root: string, rel: string, what: string): Promise<string> {
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  let current = root;
  for (const part of parts) {
    if (part === '..') throw unsafe(`${what} ${rel} leaves the project`, 'use a path inside the project');
    current = join(current, part);
    const stat = await fsp.lstat(current).catch(() => undefined);
    if (stat?.isSymbolicLink()) {
      throw unsafe(
        `${what} ${rel} goes through the symlink ${current.slice(root.length + 1)}`,
        'point the artifact path at a real directory or file inside the project, not a link',
      );
    }
  }
  return current;
}

/** True when the symlink at `linkPath` (inside `rootReal`) resolves to a place inside `rootReal`, following links. */
export async function linkStaysInside(rootReal: string, linkPath: string, target: string): Promise<boolean> {
  if (target.startsWith('/')) return false;
  let current = await fsp.realpath(dirname(linkPath));
  const parts = target.split('/').filter((p) => p !== '' && p !== '.');
  for (const [i, part] of parts.entries()) {
    if (part === '..') {
      current = dirname(current);
      continue;
    }
    const next = join(current, part);
    try {
      current = await fsp.realpath(next);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') return false; // ELOOP and friends: refuse what cannot be resolved
      // Dangling from here on: safe only if nothing below climbs back up.
      if (parts.slice(i + 1).includes('..')) return false;
      current = join(next, ...parts.slice(i + 1));
      break;
    }
  }
  return current === rootReal || current.startsWith(rootReal + sep);
}

function unsafe(message: string, hint: string): KilnError {
  return new KilnError('KILN_PACKAGE_UNSAFE', message, { hint });
}
