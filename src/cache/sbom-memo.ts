// The SBOM memo: which SBOM document shapes already passed their schemas, remembered in the local CAS so the schemas
// (the slow part) are not compiled again for the same lockfiles. It holds no SBOM content: a forged entry can only skip
// a schema check of documents Kiln has just rendered from the committed lockfiles. Every read is verified against
// its digest.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { type Digest, isDigest, sha256Digest } from '../core/digest.js';
import { writeFileAtomic } from '../platform/fsutil.js';
import type { LocalCas } from './local/cas.js';
import { clearingTheWay } from './local/files.js';

/**
 * The SBOM memo (sbom/make.ts's SbomMemo) over the local CAS, written to `writable`: an index file per key naming the
 * blob, verified on every read.
 */
export function casSbomMemo(cas: LocalCas, writable: LocalCas = cas) {
  const indexPath = (store: LocalCas, key: Digest) => join(store.dir, 'sbom', key.slice(7));
  const getFrom = async (store: LocalCas, key: Digest) => {
    const digest = (await fsp.readFile(indexPath(store, key), 'utf8').catch(() => '')).trim();
    return isDigest(digest) ? store.getBlob(digest) : undefined;
  };
  return {
    async get(key: Digest): Promise<Buffer | undefined> {
      return (await getFrom(cas, key)) ?? (writable === cas ? undefined : getFrom(writable, key));
    },
    async put(key: Digest, bytes: Buffer): Promise<void> {
      const digest = sha256Digest(bytes);
      await writable.putBlob(digest, bytes);
      const path = indexPath(writable, key);
      await clearingTheWay(path, () => writeFileAtomic(path, digest));
    },
  };
}
