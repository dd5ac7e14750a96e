// Taking manifests out of a layout: what index.json lists (with each manifest's subject), and removing entries from it
// under the same lock and atomic write publishing uses. Blobs are swept afterwards (sweep.ts), never before.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Digest } from '../../core/digest.js';
import { KilnError } from '../../core/errors.js';
import { canonicalJson, deepFreeze } from '../../core/json.js';
import { writeFileAtomic } from '../../platform/fsutil.js';
import type { Descriptor, Index } from '../types.js';
import { OCI_MANIFEST } from '../types.js';
import { parseIndex, parseManifest } from '../validate.js';
import { readBlobVerified } from './blobs.js';
import { refNameOf } from './index-plan.js';
import { INDEX_LOCK_NAME } from './layout.js';
import { DEFAULT_LOCK_OPTIONS, type LockOptions, withFileLock } from './lock.js';

/** One manifest index.json lists: its ref names (one entry each) and the manifest its `subject` points at. */
export interface LayoutManifest {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly refNames: readonly string[];
  readonly artifactType?: string;
  readonly subject?: Digest;
  /** The blob is not in blobs/ (nothing can be read through it, so nothing it named is reachable either). */
  readonly missing?: true;
}

/** Lock knobs for the index updates of gc (defaults as for publishing). */
export interface LayoutGcOptions {
  readonly lock?: Partial<LockOptions>;
}

/** The index of the layout in `dir`, or undefined when there is no layout there (nothing was ever published). */
export async function readLayoutIndex(dir: string): Promise<Index | undefined> {
  const path = join(dir, 'index.json');
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KilnError('KILN_OCI_LAYOUT', `cannot read ${path}: ${String(err)}`, { cause: err });
  }
  return deepFreeze(parseIndex(text, path));
}

/**
 * Every manifest index.json lists, once per digest, with its subject read from the (verified) manifest blob; sorted
 * by digest. Empty when there is no layout. A listed OCI manifest whose blob is corrupt throws KILN_OCI_LAYOUT.
 */
export async function readLayoutManifests(dir: string): Promise<readonly LayoutManifest[]> {
  const index = await readLayoutIndex(dir);
  if (index === undefined) return deepFreeze([]);
  const byDigest = new Map<string, Descriptor[]>();
  for (const entry of index.manifests) byDigest.set(entry.digest, [...(byDigest.get(entry.digest) ?? []), entry]);
  const out: LayoutManifest[] = [];
  for (const [digest, entries] of [...byDigest].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const first = entries[0] as Descriptor;
    const refNames = entries.flatMap((e) => refNameOf(e) ?? []).sort();
    const base = {
      digest: digest as Digest,
      mediaType: first.mediaType,
      refNames,
      ...(first.artifactType === undefined ? {} : { artifactType: first.artifactType }),
    };
    if (first.mediaType !== OCI_MANIFEST) {
      out.push(base);
      continue;
    }
    const bytes = await readBlobVerified(dir, first.digest, first.size).catch((err: unknown) => {
      if (err instanceof KilnError && err.code === 'KILN_NOT_FOUND') return undefined;
      throw err;
    });
    if (bytes === undefined) {
      out.push({ ...base, missing: true });
      continue;
    }
    const manifest = parseManifest(bytes.toString('utf8'), `manifest ${digest} in ${dir}`);
    out.push({ ...base, ...(manifest.subject ? { subject: manifest.subject.digest } : {}) });
  }
  return deepFreeze(out);
}

/** The index without any entry of the given digests (pure; order and everything else kept). */
export function withoutManifests(index: Index, digests: ReadonlySet<string>): Index {
  return deepFreeze({ ...index, manifests: index.manifests.filter((e) => !digests.has(e.digest)) });
}

/**
 * Removes every index.json entry of the given digests: re-read under the cross-process lock, written atomically
 * (only when something changed). Returns the entries removed. Blobs are left for {@link sweepLayoutBlobs}.
 */
export async function removeManifests(
  dir: string,
  digests: Iterable<string>,
  opts: LayoutGcOptions = {},
): Promise<readonly Descriptor[]> {
  const drop = new Set(digests);
  const path = join(dir, 'index.json');
  if (drop.size === 0 || (await readLayoutIndex(dir)) === undefined) return deepFreeze([]);
  return withFileLock(
    join(dir, INDEX_LOCK_NAME),
    async () => {
      const current = (await readLayoutIndex(dir)) as Index;
      const removed = current.manifests.filter((e) => drop.has(e.digest));
      if (removed.length > 0) await writeFileAtomic(path, canonicalJson(withoutManifests(current, drop)));
      return deepFreeze(removed);
    },
    { ...DEFAULT_LOCK_OPTIONS, ...opts.lock },
  );
}
