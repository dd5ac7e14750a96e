// Content digests in the one textual form Kiln uses everywhere: "sha256:<64 hex>".
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';

/** A digest string of the form `sha256:<hex>`. */
export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

/** sha256 of bytes or a string (UTF-8) as a Digest. */
export function sha256Digest(data: string | Uint8Array): Digest {
  return `sha256:${sha256Hex(data)}`;
}

/** sha256 of bytes or a string (UTF-8) as bare hex. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 of a file: small files in one read, large ones streamed, so memory stays bounded whatever the size. */
export async function sha256File(path: string): Promise<{ digest: Digest; size: number }> {
  const fh = await fsp.open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size <= SMALL_FILE) {
      const data = await fh.readFile();
      return { digest: sha256Digest(data), size: data.length };
    }
    const hash = createHash('sha256');
    let read = 0;
    for await (const chunk of fh.createReadStream({ autoClose: false, highWaterMark: 1 << 20 })) {
      hash.update(chunk as Buffer);
      read += (chunk as Buffer).length;
    }
    return { digest: `sha256:${hash.digest('hex')}`, size: read };
  } finally {
    await fh.close();
  }
}

const SMALL_FILE = 4 << 20;

/** True for a well-formed `sha256:<64 lowercase hex>` string. */
export function isDigest(value: unknown): value is Digest {
  return typeof value === 'string' && DIGEST_RE.test(value);
}

/** The hex part of a digest. */
export function digestHex(digest: Digest): string {
  return digest.slice('sha256:'.length);
}
