// The builder digest of a builder root filesystem directory: sha256 over a canonical listing of every entry
// (path, type, mode, size, content sha256 or link target). Streams: one directory listing in memory at a time,
// file contents read through one reused buffer, the listing hashed line by line as it is produced.
import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, lstatSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import { canonicalJson } from '../core/json.js';

// Synchronous I/O is ~5× faster here than fs/promises (53k files, 555 MB: 1.2 s vs 6.2 s); the walk yields to
// the event loop every few milliseconds so a worker stays responsive while it hashes.
const YIELD_EVERY_MS = 20;

/** The digest of a rootfs plus the counts that make a log line or a benchmark meaningful. */
export interface RootfsBuilder {
  readonly digest: Digest;
  readonly entries: number;
  readonly bytes: number;
}

/** Walks `dir` without following symlinks; ownership is left out (it depends on who unpacked the rootfs). */
export async function rootfsBuilderDigest(dir: string): Promise<RootfsBuilder> {
  let top: ReturnType<typeof lstatSync> | undefined;
  try {
    top = lstatSync(dir);
  } catch {
    top = undefined;
  }
  if (!top?.isDirectory()) {
    throw new KilnError('KILN_SANDBOX', `builder rootfs ${dir} is not a directory`, {
      hint: 'give the path of an unpacked root filesystem directory',
    });
  }
  const walk = new Walk(dir);
  try {
    await walk.dir('');
  } catch (cause) {
    throw new KilnError('KILN_SANDBOX', `cannot read builder rootfs ${dir}: ${(cause as Error).message}`, {
      hint: 'every file of a builder rootfs must be readable by the user running Kiln',
      cause,
    });
  }
  return Object.freeze({
    digest: `sha256:${walk.listing.digest('hex')}` as Digest,
    entries: walk.entries,
    bytes: walk.bytes,
  });
}

class Walk {
  readonly listing: Hash = createHash('sha256').update('kiln-rootfs-v1\n');
  entries = 0;
  bytes = 0;
  private readonly buffer = Buffer.allocUnsafe(1 << 20);
  private lastYield = Date.now();

  constructor(private readonly root: string) {}

  async dir(rel: string): Promise<void> {
    for (const name of readdirSync(join(this.root, rel)).sort(byCodeUnit)) {
      const path = rel ? `${rel}/${name}` : name;
      const isDir = this.entry(path);
      if (Date.now() - this.lastYield > YIELD_EVERY_MS) {
        await new Promise((go) => setImmediate(go));
        this.lastYield = Date.now();
      }
      if (isDir) await this.dir(path);
    }
  }

  /** Adds one listing line; true when `path` is a directory to descend into. */
  private entry(path: string): boolean {
    const full = join(this.root, path);
    const st = lstatSync(full);
    const mode = st.mode & 0o7777;
    let line: unknown[];
    if (st.isDirectory()) line = [path, 'dir', mode];
    else if (st.isSymbolicLink()) line = [path, 'symlink', mode, readlinkSync(full)];
    else if (st.isFile()) {
      const { sha256, size } = this.hash(full);
      line = [path, 'file', mode, size, sha256];
      this.bytes += size;
    } else line = [path, 'other', mode, st.isFIFO() ? 'fifo' : st.isSocket() ? 'socket' : `dev:${st.rdev}`];
    this.listing.update(`${canonicalJson(line)}\n`);
    this.entries += 1;
    return st.isDirectory();
  }

  /** Size counted from the bytes actually hashed, so a file changing mid-walk cannot mismatch its line. */
  private hash(path: string): { sha256: string; size: number } {
    const hash = createHash('sha256');
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK); // swapped for a fifo or link: no hang
    let size = 0;
    try {
      for (let n = readSync(fd, this.buffer); n > 0; n = readSync(fd, this.buffer)) {
        hash.update(this.buffer.subarray(0, n));
        size += n;
      }
    } finally {
      closeSync(fd);
    }
    return { sha256: hash.digest('hex'), size };
  }
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
