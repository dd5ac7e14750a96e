// Reading what a remote cache sends back without trusting it: size-bounded, hashed, written to disk only when intact.
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { renameDurable, tempPathFor } from '../../platform/fsutil.js';
import { discard, LocalIoError } from './http.js';

/** A response body read into memory, or the reason it was refused. */
export type BoundedBody =
  | { readonly kind: 'bytes'; readonly data: Buffer }
  | { readonly kind: 'too-large'; readonly detail: string };

/** Reads the body into memory, giving up (and dropping the connection's body) as soon as it exceeds `limit` bytes. */
export async function readBounded(res: Response, limit: number, onBytes: (n: number) => void): Promise<BoundedBody> {
  const refused = await refuseDeclaredOverLimit(res, limit);
  if (refused) return refused;
  const chunks: Buffer[] = [];
  const size = await eachChunk(res, limit, onBytes, (chunk) => {
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
  });
  return size === undefined ? tooLarge(limit) : { kind: 'bytes', data: Buffer.concat(chunks, size) };
}

/**
 * Feeds the body to `fn` chunk by chunk and returns its size; undefined (the rest of the body discarded) as soon
 * as more than `limit` bytes came.
 */
async function eachChunk(
  res: Response,
  limit: number,
  onBytes: (n: number) => void,
  fn: (chunk: Uint8Array) => void | Promise<void>,
): Promise<number | undefined> {
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += chunk.length;
    onBytes(chunk.length);
    if (size > limit) {
      await discard(res);
      return undefined;
    }
    await fn(chunk);
  }
  return size;
}

function tooLarge(limit: number): { kind: 'too-large'; detail: string } {
  return { kind: 'too-large', detail: `more than ${limit} bytes` };
}

/** What became of a streamed download. */
export type FileOutcome =
  | { readonly kind: 'stored' }
  | { readonly kind: 'corrupt'; readonly detail: string }
  | { readonly kind: 'too-large'; readonly detail: string };

/**
 * Streams the body to a temp file next to `dest` while hashing; renames it to `dest` only if its sha256 is `hex`.
 * Whatever happens, no temp file stays behind and `dest` is never touched by bad bytes.
 */
export async function streamToFile(
  res: Response,
  dest: string,
  hex: string,
  limit: number,
  onBytes: (n: number) => void,
): Promise<FileOutcome> {
  const refused = await refuseDeclaredOverLimit(res, limit);
  if (refused) return refused;
  const tmp = tempPathFor(dest);
  let fh: FileHandle | undefined;
  try {
    fh = await local(async () => {
      await mkdir(dirname(dest), { recursive: true });
      return open(tmp, 'wx', 0o644);
    });
    const hash = createHash('sha256');
    const out = fh;
    const size = await eachChunk(res, limit, onBytes, async (chunk) => {
      hash.update(chunk);
      await local(() => out.write(chunk));
    });
    if (size === undefined) return tooLarge(limit);
    const actual = hash.digest('hex');
    if (actual !== hex) return { kind: 'corrupt', detail: `${size} bytes with sha256 ${actual.slice(0, 12)}…` };
    const handle = fh;
    await local(async () => {
      await handle.sync();
      await handle.close();
    });
    fh = undefined;
    await local(() => renameDurable(tmp, dest));
    return { kind: 'stored' };
  } finally {
    await fh?.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
  }
}

async function local<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new LocalIoError(err);
  }
}

function declaredLength(res: Response): number | undefined {
  const raw = res.headers.get('content-length');
  if (raw === null || !/^\d+$/.test(raw.trim())) return undefined;
  return Number(raw.trim());
}

/** A body whose Content-Length already exceeds `limit` is discarded unread. */
async function refuseDeclaredOverLimit(
  res: Response,
  limit: number,
): Promise<{ kind: 'too-large'; detail: string } | undefined> {
  const declared = declaredLength(res);
  if (declared === undefined || declared <= limit) return undefined;
  await discard(res);
  return { kind: 'too-large', detail: `declared ${declared} bytes, limit ${limit}` };
}
