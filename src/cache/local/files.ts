// File-level primitives of the local CAS: verified crash-safe writes, verified reads, streamed copies.
import { createHash } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Digest, sha256Digest } from '../../core/digest.js';
import { KilnError } from '../../core/errors.js';
import { renameDurable, tempPathFor } from '../../platform/fsutil.js';

const CHUNK = 1 << 20;
/** Blobs up to this size are read in one go; larger ones are streamed in CHUNK pieces. */
export const SMALL_BLOB = 4 << 20;

/** Where to put the bytes: either in memory or copied (by the kernel) from a file. */
export type WriteSource = { kind: 'bytes'; data: Buffer } | { kind: 'file'; path: string };

/**
 * Writes `source` to `final` crash-safely: temp file (O_EXCL) in the same dir, mtime `atime`, fsync, re-read and
 * hash what landed, rename, fsync the dir. Creates the dir if missing; on failure nothing is left behind.
 */
export async function writeVerified(
  final: string,
  source: WriteSource,
  expected: Digest,
  atime: Date,
): Promise<number> {
  return clearingTheWay(final, async () => {
    const tmp = tempPathFor(final);
    try {
      const size = await writeTemp(tmp, source, expected, atime);
      await renameDurable(tmp, final);
      return size;
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
  });
}

/** Errors of a write that something other than a file at the record's name (or its shard directory) causes. */
const IN_THE_WAY = new Set(['EISDIR', 'ENOTEMPTY', 'EEXIST', 'ENOTDIR']);

/**
 * Runs `write` of the cache record `final`; when a directory sits at its name (or a file at its shard directory's),
 * left by a crash, a tool or a hand, that is no record: it is removed and the write runs once more.
 */
export async function clearingTheWay<T>(final: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!IN_THE_WAY.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    const shard = await fsp.lstat(dirname(final)).catch(() => undefined);
    if (shard && !shard.isDirectory()) await fsp.rm(dirname(final), { force: true });
    const record = await fsp.lstat(final).catch(() => undefined);
    if (record && !record.isFile()) await fsp.rm(final, { recursive: true, force: true });
    return write();
  }
}

/** One handle from creation to close: write (or kernel copy), set mtime, fsync, read back through it and hash. */
async function writeTemp(tmp: string, source: WriteSource, expected: Digest, atime: Date): Promise<number> {
  const fh = await createTemp(tmp, source);
  try {
    if (source.kind === 'bytes') await fh.writeFile(source.data);
    await fh.utimes(atime, atime);
    await fh.sync();
    const landed = await hashHandle(fh, source.kind === 'bytes' ? source.data.length + 1 : CHUNK);
    if (landed.digest !== expected) {
      const what = source.kind === 'file' ? source.path : `${landed.size} bytes`;
      throw new KilnError(
        'KILN_IO',
        `cache write of ${what} as ${expected} produced content hashing to ${landed.digest}`,
        {
          hint: 'the source changed while it was being stored, or the caller passed the wrong digest; nothing was stored',
        },
      );
    }
    return landed.size;
  } finally {
    await fh.close();
  }
}

/** Creates `tmp` exclusively (bytes: opened read-write with the final mode; file: copied by the kernel, then opened). */
async function createTemp(tmp: string, source: WriteSource): Promise<FileHandle> {
  const create = async (): Promise<FileHandle> => {
    if (source.kind === 'bytes') return fsp.open(tmp, 'wx+', 0o644);
    // copy_file_range in the kernel: memory stays flat whatever the size.
    await fsp.copyFile(source.path, tmp, constants.COPYFILE_EXCL);
    await fsp.chmod(tmp, 0o644); // it has the source's mode, which may be read-only
    return fsp.open(tmp, 'r+');
  };
  try {
    return await create();
  } catch (err) {
    // The shard directory is made on first use only: one mkdir per directory, not one per write.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await fsp.mkdir(dirname(tmp), { recursive: true });
    return create();
  }
}

/** sha256 of everything in the open file, read from offset 0 (the page cache, right after a write). */
async function hashHandle(fh: FileHandle, bufSize: number): Promise<{ digest: Digest; size: number }> {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(Math.min(bufSize, CHUNK));
  let size = 0;
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, size);
    if (bytesRead === 0) return { digest: `sha256:${hash.digest('hex')}`, size };
    hash.update(buf.subarray(0, bytesRead));
    size += bytesRead;
  }
}

/** The outcome of reading a stored file against its digest; `unreadable` (a directory, an I/O error) is a miss too. */
export type VerifiedRead =
  | { kind: 'miss' }
  | { kind: 'unreadable'; reason: string }
  | { kind: 'ok'; data: Buffer }
  | { kind: 'corrupt'; actual: Digest; ino: number };

/** Reads `path` whole and checks it hashes to `expected`. */
export async function readVerified(path: string, expected: Digest): Promise<VerifiedRead> {
  try {
    const fh = await openOrMiss(path);
    if (fh === undefined) return { kind: 'miss' };
    try {
      const st = await fh.stat();
      const data = await fh.readFile();
      const actual = sha256Digest(data);
      return actual === expected ? { kind: 'ok', data } : { kind: 'corrupt', actual, ino: st.ino };
    } finally {
      await fh.close();
    }
  } catch (err) {
    return unreadable(err);
  }
}

/** A failed read of a cache record as a miss with its reason, for errors the file system gives (not bugs). */
export function unreadable(err: unknown): { kind: 'unreadable'; reason: string } {
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code !== 'string') throw err;
  return { kind: 'unreadable', reason: code === 'EISDIR' ? 'it is a directory' : `${code}: ${(err as Error).message}` };
}

/** The outcome of copying a stored file out to a destination. */
export type VerifiedCopy =
  | { kind: 'miss' }
  | { kind: 'unreadable'; reason: string }
  | { kind: 'ok'; size: number }
  | { kind: 'corrupt'; actual: Digest; ino: number };

/** Copies `path` to `dest` (via a temp file and rename) while hashing; `dest` only appears when the hash matches. */
export async function copyOutVerified(path: string, expected: Digest, dest: string): Promise<VerifiedCopy> {
  let src: FileHandle | undefined;
  try {
    src = await openOrMiss(path);
    // Only a regular file is a blob. Checked up front: the destination's errors below are the caller's to see.
    if (src !== undefined && !(await src.stat()).isFile()) {
      await src.close();
      return { kind: 'unreadable', reason: 'it is not a regular file' };
    }
  } catch (err) {
    await src?.close();
    return unreadable(err);
  }
  if (src === undefined) return { kind: 'miss' };
  const tmp = tempPathFor(dest);
  try {
    const st = await src.stat();
    const hash = createHash('sha256');
    const out = await fsp.open(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
    let size = 0;
    try {
      if (st.size <= SMALL_BLOB) {
        const data = await src.readFile();
        hash.update(data);
        await out.writeFile(data);
        size = data.length;
      } else {
        size = await streamCopy(src, out, hash);
      }
    } finally {
      await out.close();
    }
    const actual: Digest = `sha256:${hash.digest('hex')}`;
    if (actual !== expected) return { kind: 'corrupt', actual, ino: st.ino };
    await fsp.rename(tmp, dest);
    return { kind: 'ok', size };
  } finally {
    await src.close();
    await fsp.rm(tmp, { force: true });
  }
}

/** Removes `path` only if it is still the file that was found corrupt (a concurrent writer may have replaced it). */
export async function evictIfSame(path: string, ino: number): Promise<void> {
  try {
    if ((await fsp.lstat(path)).ino === ino) await fsp.unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * True when `path` already holds exactly `expected` (so a write can be skipped; a corrupt file gets rewritten), and
 * then records `atime` as its last access through the same handle. `sizeHint` only sizes the read buffer.
 */
export async function isIntact(path: string, expected: Digest, atime: Date, sizeHint = CHUNK): Promise<boolean> {
  const fh = await openOrMiss(path).catch(() => undefined);
  if (fh === undefined) return false;
  try {
    if ((await hashHandle(fh, sizeHint + 1)).digest !== expected) return false;
    // Best effort, as in `touch`: LRU order is advisory, a read-only cache still counts as intact.
    await fh.utimes(atime, atime).catch(() => {});
    return true;
  } catch (err) {
    // A directory or an unreadable file is not the record: the write that follows replaces it.
    if (typeof (err as NodeJS.ErrnoException).code === 'string') return false;
    throw err;
  } finally {
    await fh.close();
  }
}

/** Sets a stored file's mtime (its last access, for LRU); a vanished file or a read-only cache is not an error. */
export async function touch(path: string, at: Date): Promise<void> {
  try {
    await fsp.utimes(path, at, at);
  } catch {
    // Best effort: LRU order is advisory, a read must not fail because of it.
  }
}

async function openOrMiss(path: string): Promise<FileHandle | undefined> {
  try {
    return await fsp.open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

async function streamCopy(src: FileHandle, out: FileHandle, hash: ReturnType<typeof createHash>): Promise<number> {
  const buf = Buffer.allocUnsafe(CHUNK);
  let pos = 0;
  for (;;) {
    const { bytesRead } = await src.read(buf, 0, CHUNK, pos);
    if (bytesRead === 0) return pos;
    hash.update(buf.subarray(0, bytesRead));
    for (let off = 0; off < bytesRead; ) off += (await out.write(buf, off, bytesRead - off)).bytesWritten;
    pos += bytesRead;
  }
}
