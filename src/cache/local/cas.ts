// The local content-addressed cache: blobs under cas/<2 hex>/<hex>, action entries under ac/<key>, shared by processes.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { type Digest, digestHex, isDigest, sha256Digest, sha256File } from '../../core/digest.js';
import { KilnError } from '../../core/errors.js';
import { type BlobStore, isActionKey } from '../types.js';
import {
  copyOutVerified,
  evictIfSame,
  isIntact,
  readVerified,
  touch,
  unreadable,
  type WriteSource,
  writeVerified,
} from './files.js';
import { type CasStats, type GcResult, gcCache, statCache } from './gc.js';

/** What the local CAS has seen since it was opened: the figures `kiln cache stats` and build reports show. */
export interface CasCounters {
  readonly hits: number;
  readonly misses: number;
  /** Blobs whose content did not match their address (evicted, counted as misses too). */
  readonly corrupt: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

/** How to open a local CAS; effects come in here so tests can drive the clock and catch warnings. */
export interface LocalCasOptions {
  /** The cache directory (e.g. `<kiln home>/cache`); created on first write. */
  readonly dir: string;
  /** Called once per problem the cache recovered from (a corrupt blob); never with secrets. */
  readonly onWarning?: (message: string) => void;
  /** Milliseconds since the epoch; the access time recorded for LRU. */
  readonly now?: () => number;
}

/** A local disk cache; every read is verified against its address, every write is crash-safe. */
export class LocalCas implements BlobStore {
  readonly dir: string;
  readonly #onWarning: (message: string) => void;
  readonly #now: () => number;
  #counters = { hits: 0, misses: 0, corrupt: 0, bytesRead: 0, bytesWritten: 0 };

  constructor(opts: LocalCasOptions) {
    this.dir = opts.dir;
    this.#onWarning = opts.onWarning ?? (() => {});
    this.#now = opts.now ?? Date.now;
  }

  /** Where the blob with `digest` lives (whether or not it is there). */
  blobPath(digest: Digest): string {
    const hex = digestHex(checkDigest(digest));
    return join(this.dir, 'cas', hex.slice(0, 2), hex);
  }

  /** Where the action entry for `key` lives (whether or not it is there). */
  actionPath(key: string): string {
    if (!isActionKey(key))
      throw new KilnError('KILN_USAGE', `expected an action key (64 hex), got ${JSON.stringify(key)}`);
    return join(this.dir, 'ac', key);
  }

  async getBlob(digest: Digest): Promise<Buffer | undefined> {
    const path = this.blobPath(digest);
    const read = await readVerified(path, digest);
    if (read.kind === 'ok') {
      await this.#hit(path, read.data.length);
      return read.data;
    }
    if (read.kind === 'corrupt') await this.#corrupt(path, digest, read.actual, read.ino);
    if (read.kind === 'unreadable') this.#unreadable(path, read.reason);
    this.#counters.misses++;
    return undefined;
  }

  async getBlobToFile(digest: Digest, dest: string): Promise<boolean> {
    const path = this.blobPath(digest);
    const copy = await copyOutVerified(path, digest, dest);
    if (copy.kind === 'ok') {
      await this.#hit(path, copy.size);
      return true;
    }
    if (copy.kind === 'corrupt') await this.#corrupt(path, digest, copy.actual, copy.ino);
    if (copy.kind === 'unreadable') this.#unreadable(path, copy.reason);
    this.#counters.misses++;
    return false;
  }

  /** True when the blob is present and its content matches its digest; a corrupt one is evicted (and warned about). */
  async verifyBlob(digest: Digest): Promise<boolean> {
    const path = this.blobPath(digest);
    const fh = await fsp.open(path, 'r').catch(() => undefined);
    if (!fh) return false;
    let ino = 0;
    try {
      ino = (await fh.stat()).ino;
    } finally {
      await fh.close();
    }
    const actual = await sha256File(path).then(
      (r) => r.digest,
      () => undefined,
    );
    if (actual === digest) return true;
    if (actual !== undefined) await this.#corrupt(path, digest, actual, ino);
    return false;
  }

  async hasBlob(digest: Digest): Promise<boolean> {
    // Whatever cannot be looked at is not there: the read that would follow warns about it.
    return (await fsp.stat(this.blobPath(digest)).catch(() => undefined))?.isFile() === true;
  }

  async putBlob(digest: Digest, data: Buffer): Promise<void> {
    await this.#put(this.blobPath(digest), { kind: 'bytes', data }, digest);
  }

  async putBlobFromFile(digest: Digest, path: string): Promise<void> {
    await this.#put(this.blobPath(digest), { kind: 'file', path }, digest);
  }

  async getAction(key: string): Promise<Buffer | undefined> {
    const path = this.actionPath(key);
    try {
      const data = await fsp.readFile(path);
      await this.#hit(path, data.length);
      return data;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') this.#unreadable(path, unreadable(err).reason);
      this.#counters.misses++;
      return undefined;
    }
  }

  async putAction(key: string, entry: Buffer): Promise<void> {
    // Replaces an existing entry: the newest signed entry for a key wins, readers verify whichever they get.
    const path = this.actionPath(key);
    const written = await writeVerified(path, { kind: 'bytes', data: entry }, sha256Digest(entry), this.#at());
    this.#counters.bytesWritten += written;
  }

  /** A snapshot of what this instance has counted so far. */
  counters(): CasCounters {
    return Object.freeze({ ...this.#counters });
  }

  /** Blob and action counts, total bytes and the access-time range, from a scan of the directory. */
  stats(): Promise<CasStats> {
    return statCache(this.dir);
  }

  /** Evicts least-recently-used blobs and entries until the cache holds at most `maxSizeBytes`. */
  gc(opts: { maxSizeBytes: number }): Promise<GcResult> {
    return gcCache(this.dir, opts.maxSizeBytes, this.#now());
  }

  async #put(path: string, source: WriteSource, digest: Digest): Promise<void> {
    const sizeHint = source.kind === 'bytes' ? source.data.length : undefined;
    if (await isIntact(path, digest, this.#at(), sizeHint)) return;
    // Not `+= await …`: that would read the counter before the await and lose concurrent writes.
    const written = await writeVerified(path, source, digest, this.#at());
    this.#counters.bytesWritten += written;
  }

  async #hit(path: string, size: number): Promise<void> {
    this.#counters.hits++;
    this.#counters.bytesRead += size;
    await touch(path, this.#at());
  }

  async #corrupt(path: string, digest: Digest, actual: Digest, ino: number): Promise<void> {
    this.#counters.corrupt++;
    await evictIfSame(path, ino);
    this.#onWarning(
      `cache blob ${digest} in ${this.dir} was corrupt (its content hashes to ${actual}); evicted, treated as a miss`,
    );
  }

  #unreadable(path: string, reason: string): void {
    this.#onWarning(`cache record ${path} cannot be read (${reason}); treated as a miss, replaced when stored again`);
  }

  #at(): Date {
    return new Date(this.#now());
  }
}

function checkDigest(digest: Digest): Digest {
  if (!isDigest(digest))
    throw new KilnError('KILN_USAGE', `expected a digest sha256:<64 hex>, got ${JSON.stringify(digest)}`);
  return digest;
}
