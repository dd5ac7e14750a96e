// The build's view of the cache: local and remote tiers behind one lookup/record API. Every entry read is
// checked (signature, key binding, blob digests); anything wrong is a miss, never a wrong output.
import type { PublicKey, Signer } from '../attest/index.js';
import type { Digest } from '../core/digest.js';
import { runSlots } from '../core/slots.js';
import {
  type ActionEntry,
  type BlobStore,
  type LocalCas,
  loadOutputTree,
  type OutputTree,
  readActionEntry,
  signActionEntry,
  treeBytes,
  treeDigest,
} from './index.js';
import type { CacheModes } from './modes.js';
import type { RemoteCache } from './remote/client.js';

/** A verified cache hit: the entry and the output tree it points at. */
export interface CacheHit {
  readonly entry: ActionEntry;
  readonly tree: OutputTree;
  readonly from: 'local' | 'remote';
}

/** Lookup, restore source and recording for the steps of one build. */
export class StepCache {
  /** Where this build's outputs are read from and written to (see TieredBlobs). */
  readonly blobs: BlobStore;

  constructor(
    private readonly opts: {
      /** Read first: the persistent local cache (or a scratch CAS when the local tier is off). */
      local: LocalCas;
      /** Where this build's blobs are written: `local`, or a scratch CAS when the local tier is read-only. */
      writable: LocalCas;
      remote: RemoteCache | undefined;
      modes: CacheModes;
      signer: Signer;
      trusted: readonly PublicKey[];
      onWarning: (message: string) => void;
    },
  ) {
    const remote = opts.modes.remote === 'off' ? undefined : opts.remote;
    this.blobs = new TieredBlobs(opts.local, opts.writable, remote);
  }

  /** The directory this build's cache writes go to (for messages). */
  get storeDir(): string {
    return this.opts.writable.dir;
  }

  /** The verified entry for `key`, from the local tier first, then the remote one; undefined is a miss. */
  async lookup(key: string, opts: { verifyContent?: boolean } = {}): Promise<CacheHit | undefined> {
    const tiers: ['local' | 'remote', BlobStore | undefined][] = [
      ['local', this.opts.modes.local === 'off' ? undefined : this.opts.local],
      ['remote', this.opts.modes.remote === 'off' ? undefined : this.opts.remote],
    ];
    for (const [from, tier] of tiers) {
      if (!tier) continue;
      const bytes = await tier.getAction(key);
      if (!bytes) continue;
      const read = readActionEntry(bytes, key, this.opts.trusted);
      if (!read.ok) {
        this.opts.onWarning(
          `ignored the ${from} cache entry for action ${key.slice(0, 12)}: ${read.reason} (${read.detail})`,
        );
        continue;
      }
      try {
        const tree = await loadOutputTree(read.entry.tree, this.blobs);
        // A hit must be restorable: every file blob is present (gc may have evicted some; a remote's are fetched
        // now). Content is re-hashed here only when asked (outputs that will surely be restored); every other
        // restore verifies as it copies, and a step whose cached input turns out corrupt re-runs its producer.
        const missing = await this.firstUnusableBlob(tree, opts.verifyContent === true);
        if (missing) {
          this.opts.onWarning(
            `the ${from} cache entry for action ${key.slice(0, 12)} lacks blob ${missing}; running the step`,
          );
          continue;
        }
        return { entry: read.entry, tree, from };
      } catch (err) {
        this.opts.onWarning(
          `the ${from} cache entry for action ${key.slice(0, 12)} points at a missing or corrupt tree: ${(err as Error).message}`,
        );
      }
    }
    return undefined;
  }

  private async firstUnusableBlob(tree: OutputTree, verifyContent: boolean): Promise<Digest | undefined> {
    for (const e of tree.entries) {
      if (e.kind !== 'file') continue;
      const { local } = this.opts;
      if (await (verifyContent ? local.verifyBlob(e.digest) : local.hasBlob(e.digest))) continue;
      if (!(await this.blobs.getBlob(e.digest))) return e.digest; // this build's, or fetched (verified) from the remote
    }
    return undefined;
  }

  /** Stores the tree (its blobs are already in `blobs`) and a signed entry for `key` in every writable tier. */
  async record(key: string, tree: OutputTree, producedBy: ActionEntry['producedBy'], now: Date): Promise<Digest> {
    const digest = treeDigest(tree);
    await this.blobs.putBlob(digest, treeBytes(tree));
    const entry: ActionEntry = {
      version: 1,
      key,
      tree: digest,
      outputsDigest: digest,
      producedBy,
      createdAt: now.toISOString(),
    };
    const signed = await signActionEntry(entry, this.opts.signer);
    if (this.opts.modes.local === 'rw') await this.opts.local.putAction(key, signed);
    const remote = this.opts.remote;
    if (remote && this.opts.modes.remote === 'rw') {
      // Blobs first, the entry last: a reader never finds an entry whose blobs are not there yet.
      for (const e of tree.entries) {
        if (e.kind === 'file' && !(await remote.hasBlob(e.digest))) {
          const path = await this.blobPathOf(e.digest);
          await remote.putBlobFromFile(e.digest, path);
        }
      }
      await remote.putBlob(digest, treeBytes(tree));
      await remote.putAction(key, signed);
    }
    return digest;
  }

  /** The file of a blob this build has: in the writable CAS, else in the (read-only) local one. */
  private async blobPathOf(digest: Digest): Promise<string> {
    const { writable, local } = this.opts;
    return (await writable.hasBlob(digest)) ? writable.blobPath(digest) : local.blobPath(digest);
  }
}

const REMOTE_FETCHES = 4;

/**
 * Reads the local CAS, then the writable one (when it is a separate scratch CAS), then the remote (copying what it
 * fetched into the writable CAS); writes go to the writable CAS.
 */
class TieredBlobs implements BlobStore {
  private readonly readers: readonly LocalCas[];
  /** Remote reads hold a whole blob in memory (up to the client's limit): only a few at once, however many lookups. */
  private readonly fetches = runSlots(REMOTE_FETCHES);

  constructor(
    private readonly local: LocalCas,
    private readonly writable: LocalCas,
    private readonly remote: RemoteCache | undefined,
  ) {
    this.readers = writable === local ? [local] : [local, writable];
  }

  async getBlob(digest: Digest): Promise<Buffer | undefined> {
    for (const cas of this.readers) {
      const here = await cas.getBlob(digest);
      if (here) return here;
    }
    if (!this.remote) return undefined;
    const release = await this.fetches.acquire();
    try {
      const there = await this.remote.getBlob(digest);
      if (there) await this.writable.putBlob(digest, there);
      return there;
    } finally {
      release();
    }
  }

  async getBlobToFile(digest: Digest, dest: string): Promise<boolean> {
    for (const cas of this.readers) if (await cas.getBlobToFile(digest, dest)) return true;
    if (!this.remote || !(await this.remote.getBlobToFile(digest, dest))) return false;
    await this.writable.putBlobFromFile(digest, dest);
    return true;
  }

  async hasBlob(digest: Digest): Promise<boolean> {
    for (const cas of this.readers) if (await cas.hasBlob(digest)) return true;
    return this.remote ? this.remote.hasBlob(digest) : false;
  }

  putBlob(digest: Digest, data: Buffer): Promise<void> {
    return this.writable.putBlob(digest, data);
  }

  putBlobFromFile(digest: Digest, path: string): Promise<void> {
    return this.writable.putBlobFromFile(digest, path);
  }

  getAction(key: string): Promise<Buffer | undefined> {
    return this.local.getAction(key);
  }

  putAction(key: string, entry: Buffer): Promise<void> {
    return this.writable.putAction(key, entry);
  }
}
