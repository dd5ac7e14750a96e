// Crash-safe file writes: temp file, fsync, rename, fsync the directory. Readers never see half a file.
import { randomBytes } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ownPid } from './processes.js';

/** Writes `data` to `path` atomically and durably (temp + fsync + rename + fsync dir). */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: { mode?: number } = {},
): Promise<void> {
  const dir = dirname(path);
  await fsp.mkdir(dir, { recursive: true });
  const tmp = tempPathFor(path);
  const fh = await fsp.open(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, opts.mode ?? 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await renameDurable(tmp, path);
}

/** Renames `from` to `to` and fsyncs the target directory so the rename survives a crash. */
export async function renameDurable(from: string, to: string): Promise<void> {
  try {
    await fsp.rename(from, to);
  } catch (err) {
    await fsp.rm(from, { force: true });
    throw err;
  }
  await fsyncDir(dirname(to));
}

/** fsyncs a directory (its entries), ignoring platforms that refuse it. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } catch {
    // Some filesystems do not allow fsync on directories; the rename is still atomic there.
  } finally {
    await fh.close();
  }
}

/** A hidden temp name next to `path`, so the final rename stays on one filesystem. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${ownPid()}-${randomBytes(4).toString('hex')}`);
}

/** True when something exists at `path` (without following a final symlink). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await fsp.lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Creates `path` with `content` only if it does not exist: temp file, then link (atomic, never clobbers). */
export async function createExclusive(
  path: string,
  content: string,
  opts: { durable?: boolean; mode?: number } = {},
): Promise<boolean> {
  const tmp = tempPathFor(path);
  const fh = await fsp.open(tmp, 'wx', opts.mode ?? 0o644);
  try {
    await fh.writeFile(content);
    if (opts.durable) await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fsp.link(tmp, path);
    if (opts.durable) await fsyncDir(dirname(path));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}
