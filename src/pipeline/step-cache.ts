// The build's view of the cache: local and remote tiers behind one lookup/record API. Every entry read is
// checked (signature, key binding, blob digests); anything wrong is a miss, never a wrong output.
import type { PublicKey, Signer } from '../attest/index.js';
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
} from '../cache/index.js';
import type { RemoteCache } from '../cache/remote.js';
import type { CacheModes } from '../cache/remote-mode.js';
import type { Digest } from '../core/digest.js';

/** A verified cache hit: the entry and the output tree it points at. */
export interface CacheHit {
  readonly entry: ActionEntry;
  readonly tree: OutputTree;
  readonly from: 'local' | 'remote';
}

/** Lookup, restore source and recording for the steps of one build. */
export class StepCache {
  /** Where this build's outputs go: the persistent local cache, or a scratch CAS when the local tier is off. */
  readonly blobs: BlobStore;

  constructor(
    private readonly opts: {
      local: LocalCas;
      remote: RemoteCache | undefined;
      modes: CacheModes;
      signer: Signer;
      trusted: readonly PublicKey[];
      onWarning: (message: string) => void;
    },
  ) {
    this.blobs = new TieredBlobs(opts.local, opts.modes.remote === 'off' ? undefined : opts.remote);
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
      if (await (verifyContent ? this.opts.local.verifyBlob(e.digest) : this.opts.local.hasBlob(e.digest))) continue;
      if (!(await this.blobs.getBlob(e.digest))) return e.digest; // fetched (verified) from the remote, if it has it
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
          const path = this.opts.local.blobPath(e.digest);
          await remote.putBlobFromFile(e.digest, path);
        }
      }
      await remote.putBlob(digest, treeBytes(tree));
      await remote.putAction(key, signed);
    }
    return digest;
  }
}

/** Reads local first, then remote (copying what it fetched into the local CAS); writes go to the local CAS. */
class TieredBlobs implements BlobStore {
  constructor(
    private readonly local: LocalCas,
    private readonly remote: RemoteCache | undefined,
  ) {}

  async getBlob(digest: Digest): Promise<Buffer | undefined> {
    const here = await this.local.getBlob(digest);
    if (here || !this.remote) return here;
    const there = await this.remote.getBlob(digest);
    if (there) await this.local.putBlob(digest, there);
    return there;
  }

  async getBlobToFile(digest: Digest, dest: string): Promise<boolean> {
    if (await this.local.getBlobToFile(digest, dest)) return true;
    if (!this.remote || !(await this.remote.getBlobToFile(digest, dest))) return false;
    await this.local.putBlobFromFile(digest, dest);
    return true;
  }

  async hasBlob(digest: Digest): Promise<boolean> {
    return (await this.local.hasBlob(digest)) || (this.remote ? this.remote.hasBlob(digest) : false);
  }

  putBlob(digest: Digest, data: Buffer): Promise<void> {
    return this.local.putBlob(digest, data);
  }

  putBlobFromFile(digest: Digest, path: string): Promise<void> {
    return this.local.putBlobFromFile(digest, path);
  }

  getAction(key: string): Promise<Buffer | undefined> {
    return this.local.getAction(key);
  }

  putAction(key: string, entry: Buffer): Promise<void> {
    return this.local.putAction(key, entry);
  }
}
