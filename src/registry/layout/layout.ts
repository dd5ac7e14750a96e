// An OCI image layout directory as a publish target: blobs, manifests, and a lock-serialized index.json.
import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Digest } from '../../core/digest.js';
import { KilnError } from '../../core/errors.js';
import { canonicalJson, deepFreeze } from '../../core/json.js';
import { createExclusive, writeFileAtomic } from '../../platform/fsutil.js';
import { artifactManifest, EMPTY_JSON, evidenceManifest } from '../manifest.js';
import type { AttachOptions, Descriptor, Index, Manifest, OciLayout, PushArtifactOptions } from '../types.js';
import { OCI_EMPTY, OCI_MANIFEST } from '../types.js';
import { parseIndex, parseLayoutFile, parseManifest } from '../validate.js';
import { readBlobVerified, storeBlobBytes, storeBlobFile } from './blobs.js';
import { addToIndex, emptyIndex, refNameOf } from './index-plan.js';
import type { LockOptions } from './lock.js';
import { DEFAULT_LOCK_OPTIONS, withFileLock } from './lock.js';
import { checkManifestBlobs, checkMediaType, checkRefName, checkSubject, evidenceSource } from './preconditions.js';

/** Knobs for opening a layout; the defaults suit production (5 min stale locks, 2 min wait). */
export interface OpenOciLayoutOptions {
  readonly lock?: Partial<LockOptions>;
}

/** Lock file guarding index.json; delete it by hand only when no Kiln process is running. */
export const INDEX_LOCK_NAME = 'index.json.lock';

/** Opens (creating if absent) an OCI image layout; refuses a directory whose oci-layout or index.json is invalid. */
export async function openOciLayout(dir: string, opts: OpenOciLayoutOptions = {}): Promise<OciLayout> {
  const root = resolve(dir);
  try {
    await fsp.mkdir(root, { recursive: true });
    const markerPath = join(root, 'oci-layout');
    await createExclusive(markerPath, canonicalJson({ imageLayoutVersion: '1.0.0' }), { durable: true });
    parseLayoutFile(await fsp.readFile(markerPath, 'utf8'), markerPath);
    const indexPath = join(root, 'index.json');
    await createExclusive(indexPath, canonicalJson(emptyIndex()), { durable: true });
    parseIndex(await fsp.readFile(indexPath, 'utf8'), indexPath);
    await fsp.mkdir(join(root, 'blobs', 'sha256'), { recursive: true });
  } catch (err) {
    throw asLayoutError(err, root);
  }
  return new LayoutDir(root, { ...DEFAULT_LOCK_OPTIONS, ...opts.lock });
}

/**
 * A layout to read from, as it is: nothing is created or written (reading a missing blob or index is an error of
 * its own), so reading works on a layout that is read-only or not there yet.
 */
export function readOciLayout(dir: string): OciLayout {
  return new LayoutDir(resolve(dir), DEFAULT_LOCK_OPTIONS);
}

/** A file-system failure while opening `root` as a KilnError that says where (a full disk, a read-only layout). */
function asLayoutError(err: unknown, root: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (err instanceof KilnError || code === undefined) return err;
  return new KilnError('KILN_OCI_LAYOUT', `cannot open the OCI layout ${root}: ${(err as Error).message}`, {
    cause: err,
    hint: 'check that the directory is writable and the disk has room (KILN_HOME chooses where it is)',
  });
}

class LayoutDir implements OciLayout {
  readonly dir: string;
  readonly #lock: LockOptions;

  constructor(dir: string, lock: LockOptions) {
    this.dir = dir;
    this.#lock = lock;
  }

  async putBlobFile(path: string, mediaType: string): Promise<Descriptor> {
    checkMediaType(mediaType, 'blob mediaType');
    const { digest, size } = await storeBlobFile(this.dir, path);
    return deepFreeze({ mediaType, digest, size });
  }

  async putBlobBytes(bytes: Uint8Array, mediaType: string): Promise<Descriptor> {
    checkMediaType(mediaType, 'blob mediaType');
    const { digest, size } = await storeBlobBytes(this.dir, bytes);
    return deepFreeze({ mediaType, digest, size });
  }

  async putManifest(manifest: Manifest): Promise<Descriptor> {
    await checkManifestBlobs(this.dir, manifest);
    const { digest, size } = await storeBlobBytes(this.dir, Buffer.from(canonicalJson(manifest), 'utf8'));
    const artifactType = manifest.artifactType;
    return deepFreeze({ mediaType: OCI_MANIFEST, digest, size, ...(artifactType ? { artifactType } : {}) });
  }

  async pushArtifact(opts: PushArtifactOptions): Promise<Descriptor> {
    if (opts.refName !== undefined) checkRefName(opts.refName);
    const layer = await this.putBlobFile(opts.file, opts.mediaType);
    await this.putBlobBytes(Buffer.from(EMPTY_JSON), OCI_EMPTY);
    const manifest = await this.putManifest(artifactManifest({ ...opts, layer }));
    await this.#addToIndex({ manifest, ...(opts.refName === undefined ? {} : { refName: opts.refName }) });
    return manifest;
  }

  async attach(opts: AttachOptions): Promise<Descriptor> {
    const [manifest] = await this.attachAll([opts]);
    return manifest as Descriptor;
  }

  async attachAll(list: readonly AttachOptions[]): Promise<Descriptor[]> {
    const manifests: Descriptor[] = [];
    for (const opts of list) {
      const source = evidenceSource(opts);
      await checkSubject(this.dir, opts.subject);
      const layer =
        source.kind === 'file'
          ? await this.putBlobFile(source.file, opts.mediaType)
          : await this.putBlobBytes(source.bytes, opts.mediaType);
      await this.putBlobBytes(Buffer.from(EMPTY_JSON), OCI_EMPTY);
      manifests.push(await this.putManifest(evidenceManifest({ ...opts, layer })));
    }
    // Every blob and manifest is stored before the index names any of them, and it names them all at once.
    await this.#addToIndex(...manifests.map((manifest) => ({ manifest })));
    return manifests;
  }

  async referrers(subject: Digest, opts: { artifactType?: string } = {}): Promise<Descriptor[]> {
    const found = new Map<string, Descriptor>();
    for (const entry of (await this.index()).manifests) {
      if (entry.mediaType !== OCI_MANIFEST || found.has(entry.digest)) continue;
      const bytes = await this.#readBlob(entry.digest, entry.size);
      const m = parseManifest(bytes.toString('utf8'), `manifest ${entry.digest} in ${this.dir}`);
      if (m.subject?.digest !== subject) continue;
      // Distribution-spec referrers: artifactType falls back to the config media type.
      const artifactType = m.artifactType ?? m.config.mediaType;
      if (opts.artifactType !== undefined && artifactType !== opts.artifactType) continue;
      const { digest, size } = entry;
      found.set(digest, { mediaType: OCI_MANIFEST, digest, size, artifactType, ...annotationsOf(m) });
    }
    return deepFreeze([...found.values()].sort((a, b) => (a.digest < b.digest ? -1 : 1)));
  }

  async resolve(refName: string): Promise<Descriptor | undefined> {
    return (await this.index()).manifests.find((e) => refNameOf(e) === refName);
  }

  async readBlob(digest: Digest): Promise<Buffer> {
    return this.#readBlob(digest);
  }

  async index(): Promise<Index> {
    const path = join(this.dir, 'index.json');
    const text = await fsp.readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw asLayoutError(err, this.dir);
      throw new KilnError('KILN_NOT_FOUND', `the OCI layout ${this.dir} has no index.json`, {
        cause: err,
        hint: 'nothing was published there yet, or it was removed: build again',
      });
    });
    return deepFreeze(parseIndex(text, path));
  }

  #readBlob(digest: Digest, size?: number): Promise<Buffer> {
    return readBlobVerified(this.dir, digest, size);
  }

  /** Re-reads index.json under the cross-process lock, applies the pure update, writes it atomically. */
  async #addToIndex(...entries: readonly { manifest: Descriptor; refName?: string }[]): Promise<void> {
    const path = join(this.dir, 'index.json');
    await withFileLock(
      join(this.dir, INDEX_LOCK_NAME),
      async () => {
        const current = await this.index();
        const updated = entries.reduce((index, e) => addToIndex(index, e.manifest, e.refName), current);
        const next = canonicalJson(updated);
        if (next !== canonicalJson(current)) await writeFileAtomic(path, next);
      },
      this.#lock,
    );
  }
}

function annotationsOf(m: Manifest): { annotations?: Readonly<Record<string, string>> } {
  return m.annotations === undefined ? {} : { annotations: m.annotations };
}
