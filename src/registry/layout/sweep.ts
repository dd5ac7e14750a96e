// Deleting the blobs of a layout that nothing index.json lists still needs. Runs after the index update, under the
// index lock, so a crash between the two only leaves unreferenced blobs, which the next sweep removes.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Digest } from '../../core/digest.js';
import { isDigest } from '../../core/digest.js';
import { KilnError } from '../../core/errors.js';
import { isRecord } from '../../core/json.js';
import type { Descriptor } from '../types.js';
import { blobPath, readBlobVerified } from './blobs.js';
import { readLayoutIndex } from './gc.js';
import { INDEX_LOCK_NAME } from './layout.js';
import { DEFAULT_LOCK_OPTIONS, type LockOptions, withFileLock } from './lock.js';

/** Blobs younger than this are kept even when unreferenced: a publish stores blobs before it names them. */
export const DEFAULT_BLOB_GRACE_MS = 60 * 60_000;

/** What a sweep did. */
export interface BlobSweep {
  readonly removed: readonly { readonly digest: Digest; readonly size: number }[];
  readonly bytesRemoved: number;
  /** Unreferenced, but written within the grace period (a publish may be naming them right now). */
  readonly young: number;
  /** Blobs still referenced. */
  readonly referenced: number;
  /** Temp files of killed writers, older than the grace period, removed. */
  readonly staleTempFiles: number;
  /** Manifests the index (or an index blob) names that are not in blobs/: what they named cannot be reached. */
  readonly missingManifests: readonly Digest[];
}

/** When to count a blob as old, who holds the lock, and who hears about progress. */
export interface SweepOptions {
  readonly now: Date;
  readonly graceMs?: number;
  readonly lock?: Partial<LockOptions>;
  readonly onProgress?: (done: number, total: number) => void;
}

const MANIFEST_TYPES = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.artifact.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);
const BLOB_NAME = /^[0-9a-f]{64}$/;
const TEMP_NAME = /^\..+\.tmp-\d+-[0-9a-f]{8}$/;

/**
 * Every blob reachable from index.json: each listed manifest, its config, layers and subject, and for an image
 * index the manifests it lists, recursively. A manifest blob that fails its digest throws KILN_OCI_LAYOUT (what it
 * names cannot be known, so nothing may be deleted); a missing one is reported and its children are unreachable.
 */
export async function referencedBlobs(dir: string): Promise<{ digests: Set<string>; missing: Digest[] }> {
  const digests = new Set<string>();
  const missing: Digest[] = [];
  const visit = async (d: Descriptor, where: string): Promise<void> => {
    if (digests.has(d.digest)) return;
    const isSubject = where.endsWith('.subject'); // a referrer may name a subject that is not (yet) there: allowed
    digests.add(d.digest);
    if (!MANIFEST_TYPES.has(d.mediaType)) return;
    const bytes = await readBlobVerified(dir, d.digest).catch((err: unknown) => {
      if (err instanceof KilnError && err.code === 'KILN_NOT_FOUND') return undefined;
      throw err;
    });
    if (bytes === undefined) {
      if (!isSubject) missing.push(d.digest);
      return;
    }
    for (const [path, child] of childDescriptors(bytes, `${where} (${d.digest})`)) await visit(child, path);
  };
  const index = await readLayoutIndex(dir);
  for (const [i, entry] of (index?.manifests ?? []).entries()) await visit(entry, `index.json manifests[${i}]`);
  return { digests, missing };
}

/**
 * Deletes the blobs under blobs/sha256 that nothing in index.json reaches and that are older than the grace
 * period, and temp files of killed writers as old. Holds the index lock throughout, so the index cannot change
 * between deciding what is referenced and deleting.
 */
export async function sweepLayoutBlobs(dir: string, opts: SweepOptions): Promise<BlobSweep> {
  const blobsDir = join(dir, 'blobs', 'sha256');
  if ((await readLayoutIndex(dir)) === undefined) return emptySweep();
  const cutoff = opts.now.getTime() - (opts.graceMs ?? DEFAULT_BLOB_GRACE_MS);
  return withFileLock(
    join(dir, INDEX_LOCK_NAME),
    async () => {
      const { digests, missing } = await referencedBlobs(dir);
      const names = await fsp.readdir(blobsDir).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return [] as string[];
        throw err;
      });
      const removed: { digest: Digest; size: number }[] = [];
      let young = 0;
      let referenced = 0;
      let staleTempFiles = 0;
      for (const [i, name] of names.entries()) {
        if (i % 256 === 0) opts.onProgress?.(i, names.length);
        const isBlob = BLOB_NAME.test(name);
        if (!isBlob && !TEMP_NAME.test(name)) continue;
        const digest = `sha256:${name}` as Digest;
        if (isBlob && digests.has(digest)) {
          referenced++;
          continue;
        }
        const st = await fsp.lstat(join(blobsDir, name)).catch(() => undefined);
        if (st === undefined || !st.isFile()) continue;
        if (st.mtimeMs > cutoff) {
          if (isBlob) young++;
          continue;
        }
        await fsp.rm(isBlob ? blobPath(dir, digest) : join(blobsDir, name), { force: true });
        if (isBlob) removed.push({ digest, size: st.size });
        else staleTempFiles++;
      }
      opts.onProgress?.(names.length, names.length);
      removed.sort((a, b) => (a.digest < b.digest ? -1 : 1));
      const bytesRemoved = removed.reduce((n, r) => n + r.size, 0);
      return { removed, bytesRemoved, young, referenced, staleTempFiles, missingManifests: missing.sort() };
    },
    { ...DEFAULT_LOCK_OPTIONS, ...opts.lock },
  );
}

/** The descriptors a manifest or index blob points at, with where they sit; throws KILN_OCI_LAYOUT if it is not JSON. */
function childDescriptors(bytes: Buffer, where: string): [string, Descriptor][] {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new KilnError('KILN_OCI_LAYOUT', `${where} is not JSON, so the blobs it names cannot be known`, {
      cause,
      hint: 'Nothing was deleted. Restore the manifest or remove its index.json entry by hand, then run gc again.',
    });
  }
  if (!isRecord(value)) return [];
  const out: [string, Descriptor][] = [];
  const add = (d: unknown, path: string) => {
    if (isRecord(d) && isDigest(d.digest) && typeof d.mediaType === 'string')
      out.push([path, d as unknown as Descriptor]);
  };
  add(value.config, `${where}.config`);
  add(value.subject, `${where}.subject`);
  for (const field of ['layers', 'manifests', 'blobs'] as const) {
    const list = value[field];
    if (Array.isArray(list)) for (const [i, d] of list.entries()) add(d, `${where}.${field}[${i}]`);
  }
  return out;
}

function emptySweep(): BlobSweep {
  return { removed: [], bytesRemoved: 0, young: 0, referenced: 0, staleTempFiles: 0, missingManifests: [] };
}
