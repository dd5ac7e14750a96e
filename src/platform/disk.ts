// Failures of the machine rather than of Kiln or its input (a full disk, a read-only or forbidden directory), turned
// into KilnErrors that say so and where, wherever in a use case they surface.
import { accessSync, constants, promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { KilnError } from '../core/errors.js';

const FULL = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);
const DENIED = new Set(['EROFS', 'EACCES', 'EPERM', 'SQLITE_READONLY']);

/**
 * The KilnError for a full disk or an unwritable place behind `err` (or its causes); undefined for anything else.
 * `place` names where the caller was writing, for errors that carry no path (a failed `write` on an open file).
 */
export function environmentError(err: unknown, place?: string): KilnError | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof KilnError) {
      if (e.code === 'KILN_DISK_FULL') return e; // already says where
      continue;
    }
    const { code, path, syscall } = e as NodeJS.ErrnoException;
    if (typeof code !== 'string') continue;
    const where = path ?? placeIn(e.message) ?? place;
    if (FULL.has(code)) return diskFull(where, e);
    if (DENIED.has(code)) return unwritable(where, code, e);
    // mkdir -p on a read-only file system answers ENOENT; the nearest directory that exists tells the truth.
    if (code === 'ENOENT' && syscall === 'mkdir' && path) {
      const denied = writeDenied(path);
      if (denied) return unwritable(path, denied, e);
    }
  }
  return undefined;
}

/** KILN_DISK_FULL for a write under `where` that found no space. */
export function diskFull(where: string | undefined, cause: unknown): KilnError {
  return new KilnError('KILN_DISK_FULL', `no space left on the device${where ? ` writing ${where}` : ''}`, {
    cause,
    hint: 'free space on that file system (`kiln gc` and `kiln cache gc` remove old builds and cache entries), or point KILN_HOME / the output directory at a larger one; then build again',
    details: { where: where ?? null },
  });
}

function unwritable(where: string | undefined, code: string, cause: unknown): KilnError {
  const why = code === 'EROFS' || code === 'SQLITE_READONLY' ? 'is on a read-only file system' : 'is not writable';
  return new KilnError('KILN_IO', `${where ?? 'a file Kiln writes'} ${why} (${code})`, {
    cause,
    hint: 'Kiln writes its store, cache, keys and logs under KILN_HOME: set KILN_HOME to a writable directory, or fix the permissions of the one named',
    details: { where: where ?? null },
  });
}

/** The error code of the nearest existing ancestor of `path` refusing writes, if it does. */
function writeDenied(path: string): string | undefined {
  for (let dir = dirname(path), prev = ''; dir !== prev; prev = dir, dir = dirname(dir)) {
    try {
      accessSync(dir, constants.W_OK);
      return undefined;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return code;
    }
  }
  return undefined;
}

/** The quoted path in a Node error message such as `ENOSPC: no space left on device, write '/x'` (when it has one). */
function placeIn(message: string): string | undefined {
  return /'([^']+)'/.exec(message)?.[1];
}

/**
 * The bytes an unprivileged writer may still use on the file system holding `path` (or its nearest existing
 * ancestor, for a directory not made yet); null when not even `/` can be examined.
 */
export async function freeBytes(path: string): Promise<number | null> {
  for (let p = path; ; p = dirname(p)) {
    const st = await fsp.statfs(p).catch(() => undefined);
    if (st) return st.bavail * st.bsize;
    if (dirname(p) === p) return null;
  }
}
