// Content-addressed blob files under blobs/sha256: written crash-safely, never trusted without re-hashing.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Digest } from '../../core/digest.js';
import { digestHex, isDigest, sha256Digest, sha256File } from '../../core/digest.js';
import { KilnError } from '../../core/errors.js';
import { renameDurable, tempPathFor, writeFileAtomic } from '../../platform/fsutil.js';

/** Where a blob lives inside a layout directory. */
export function blobPath(layoutDir: string, digest: Digest): string {
  return join(layoutDir, 'blobs', 'sha256', digestHex(digest));
}

/** Streams `file` into the layout while hashing (constant memory); keeps an intact existing blob, replaces a bad one. */
export async function storeBlobFile(layoutDir: string, file: string): Promise<{ digest: Digest; size: number }> {
  const dir = join(layoutDir, 'blobs', 'sha256');
  await fsp.mkdir(dir, { recursive: true });
  const tmp = tempPathFor(join(dir, 'upload'));
  try {
    const written = await copyHashing(file, tmp);
    const final = blobPath(layoutDir, written.digest);
    if (!(await isIntact(final, written.digest, written.size))) await renameDurable(tmp, final);
    else await touch(final);
    return written;
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}

/** Stores in-memory bytes as a blob; keeps an intact existing blob, replaces a bad one. */
export async function storeBlobBytes(layoutDir: string, bytes: Uint8Array): Promise<{ digest: Digest; size: number }> {
  const digest = sha256Digest(bytes);
  const final = blobPath(layoutDir, digest);
  if (!(await isIntact(final, digest, bytes.length))) await writeFileAtomic(final, bytes);
  else await touch(final);
  return { digest, size: bytes.length };
}

/**
 * Marks a kept blob as just stored: `kiln gc`'s sweep spares blobs younger than its grace period, so content a
 * build is about to index again is not deleted between being stored and being listed.
 */
async function touch(path: string): Promise<void> {
  const now = new Date();
  await fsp.utimes(path, now, now).catch(() => undefined); // a blob kept read-only by its owner stays as it is
}

/** A blob's bytes after checking them against the digest; throws KILN_OCI_LAYOUT naming the blob on mismatch. */
export async function readBlobVerified(layoutDir: string, digest: Digest, expectedSize?: number): Promise<Buffer> {
  if (!isDigest(digest))
    throw new KilnError('KILN_USAGE', `expected a digest sha256:<64 hex>, got ${JSON.stringify(digest)}`);
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(blobPath(layoutDir, digest));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new KilnError('KILN_NOT_FOUND', `blob ${digest} is not in the OCI layout ${layoutDir}`, {
      hint: 'Publish the artifact again, or check that the digest and layout directory are the ones you meant.',
      cause: err,
    });
  }
  const actual = sha256Digest(bytes);
  if (actual !== digest || (expectedSize !== undefined && bytes.length !== expectedSize)) {
    const sizeNote =
      expectedSize !== undefined && bytes.length !== expectedSize
        ? `, ${bytes.length} bytes instead of ${expectedSize}`
        : '';
    throw new KilnError(
      'KILN_OCI_LAYOUT',
      `blob ${digest} in ${layoutDir} is corrupt: its content hashes to ${actual}${sizeNote}`,
      {
        hint: `Delete ${blobPath(layoutDir, digest)} and publish again; never use content that fails its digest.`,
      },
    );
  }
  return bytes;
}

/** True when the blob exists with the given size (a cheap presence check, not a content check). */
export async function hasBlob(layoutDir: string, digest: Digest, size: number): Promise<boolean> {
  try {
    return (await fsp.stat(blobPath(layoutDir, digest))).size === size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function isIntact(path: string, digest: Digest, size: number): Promise<boolean> {
  try {
    const st = await fsp.stat(path);
    if (!st.isFile() || st.size !== size) return false;
    return (await sha256File(path)).digest === digest;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function copyHashing(file: string, tmp: string): Promise<{ digest: Digest; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const out = await fsp.open(tmp, 'wx', 0o644);
  try {
    for await (const chunk of createReadStream(file)) {
      const buf = chunk as Buffer;
      hash.update(buf);
      for (let off = 0; off < buf.length; ) off += (await out.write(buf, off)).bytesWritten;
      size += buf.length;
    }
    await out.sync();
    const onDisk = (await out.stat()).size;
    if (onDisk !== size)
      throw new KilnError('KILN_IO', `wrote ${onDisk} bytes to ${tmp} but read ${size} from ${file}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new KilnError('KILN_NOT_FOUND', `cannot publish ${file}: no such file`, {
      hint: 'Check that the build produced this output before publishing it.',
      cause: err,
    });
  } finally {
    await out.close();
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}
