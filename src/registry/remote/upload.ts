// Blob upload: skip when present, else cross-repo mount, else POST + PUT, or POST + PATCH chunks + PUT; restartable.
import { open } from 'node:fs/promises';
import { type Digest, sha256Digest, sha256File } from '../../core/digest.js';
import { KilnError } from '../../core/errors.js';
import { type CallContext, registryErrorOf, statusError } from './failures.js';
import { type HttpResponse, resolveUrl } from './http.js';
import { assertRepository } from './ref.js';
import { TransientFailure } from './retry.js';
import { repositoryScope, type Session } from './session.js';

/** Where a blob's bytes are: a file (read chunk by chunk) or bytes; or a function giving them only when needed. */
export type BlobSource = string | Uint8Array;

/** A blob to upload: its digest and size, and its bytes (fetched lazily when `source` is a function). */
export interface BlobUpload {
  readonly digest: Digest;
  readonly size: number;
  readonly source: BlobSource | (() => Promise<BlobSource>);
}

/**
 * Uploads `blob` into `repository` unless it is already there. Any retryable failure (429, 5xx, a dropped
 * connection, an upload session the registry forgot) restarts the whole upload from the existence check.
 */
export async function putBlob(s: Session, repository: string, blob: BlobUpload, mountFrom?: string): Promise<void> {
  assertRepository(repository);
  if (mountFrom !== undefined) assertRepository(mountFrom);
  const from = mountFrom !== undefined && mountFrom !== repository ? mountFrom : undefined;
  const ctx = s.context(repository, 'push', `blob ${blob.digest}`);
  const scopes = [repositoryScope(repository, 'pull,push'), ...(from ? [repositoryScope(from, 'pull')] : [])];
  const uploads = `/v2/${repository}/blobs/uploads/`;
  let verified = false;
  // A lazy source is only asked for when the blob is neither there nor mountable (a copy between registries
  // downloads nothing the target already has).
  let bytes: BlobSource | undefined;
  const sourceOf = async () => {
    bytes ??= typeof blob.source === 'function' ? await blob.source() : blob.source;
    return bytes;
  };

  await s.retrying(async (n) => {
    const head = await s.attempt(
      { method: 'HEAD', url: s.url(`/v2/${repository}/blobs/${blob.digest}`) },
      scopes,
      ctx,
      undefined,
      n,
    );
    if (head.status === 200) return;
    if (head.status !== 404) throw statusError(head, ctx);
    // The content is checked before anything is sent; with a mount to try first, only once the mount missed.
    const check = async () => {
      if (!verified) await checkSource({ ...blob, source: await sourceOf() });
      verified = true;
    };
    if (!from) await check();
    const query = from ? `?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from)}` : '';
    const started = await s.attempt({ method: 'POST', url: s.url(`${uploads}${query}`) }, scopes, ctx, undefined, n);
    if (started.status === 201 && from) return; // Mounted: the registry linked the blob from `from`.
    let location = sessionLocation(started, ctx, s);
    await check();

    const reader = await openSource(await sourceOf());
    try {
      let done: HttpResponse;
      if (blob.size <= s.chunkSize) {
        const body = await reader.read(0, blob.size);
        done = await s.attempt(
          { method: 'PUT', url: withDigest(location, blob.digest), headers: OCTETS, body },
          scopes,
          ctx,
          undefined,
          n,
        );
      } else {
        for (let start = 0; start < blob.size; start += s.chunkSize) {
          const body = await reader.read(start, Math.min(s.chunkSize, blob.size - start));
          const headers = { ...OCTETS, 'Content-Range': `${start}-${start + body.length - 1}` };
          const res = await s.attempt({ method: 'PATCH', url: location, headers, body }, scopes, ctx, undefined, n);
          if (res.status !== 202) throw restartable(res, ctx);
          location = sessionLocation(res, ctx, s);
        }
        done = await s.attempt(
          { method: 'PUT', url: withDigest(location, blob.digest), headers: OCTETS },
          scopes,
          ctx,
          undefined,
          n,
        );
      }
      if (done.status !== 201) throw restartable(done, ctx);
      const stored = done.headers.get('docker-content-digest');
      if (stored !== null && stored !== blob.digest) {
        throw new KilnError(
          'KILN_REGISTRY_HTTP',
          `registry ${s.registry} stored blob ${blob.digest} of ${repository} under digest ${stored.slice(0, 80)}`,
          {
            hint: 'the registry (or a proxy) changed the bytes on the way; do not use it until that is explained',
          },
        );
      }
    } finally {
      await reader.close();
    }
  });
}

const OCTETS = Object.freeze({ 'Content-Type': 'application/octet-stream' });

/** The upload session URL from a 202's Location (absolute or relative to the request). */
function sessionLocation(res: HttpResponse, ctx: CallContext, s: Session): string {
  if (res.status !== 202) throw restartable(res, ctx);
  const location = res.headers.get('location');
  if (location === null || location === '') {
    throw new KilnError(
      'KILN_REGISTRY_HTTP',
      `registry ${s.registry} started an upload to ${ctx.repository} without a Location header`,
      {
        hint: 'the registry does not follow the distribution spec for uploads',
      },
    );
  }
  const url = resolveUrl(location, res.url);
  if (url === undefined) {
    throw new KilnError(
      'KILN_REGISTRY_HTTP',
      `registry ${s.registry} answered an upload to ${ctx.repository} with an invalid Location`,
      {
        hint: 'the registry or a proxy in front of it sends a malformed Location header',
      },
    );
  }
  return url;
}

/** An upload session the registry lost (404 BLOB_UPLOAD_UNKNOWN, 400 BLOB_UPLOAD_INVALID, 416) restarts from POST. */
function restartable(res: HttpResponse, ctx: CallContext): Error {
  const code = registryErrorOf(res.body)?.code;
  if (res.status === 416 || code === 'BLOB_UPLOAD_UNKNOWN' || code === 'BLOB_UPLOAD_INVALID') {
    return new TransientFailure(`upload session lost (${res.status})`, (attempts) => statusError(res, ctx, attempts));
  }
  return statusError(res, ctx);
}

/** `location` plus `digest=…`; Location may already carry a query (docker-registry 2.8 always adds `_state`). */
export function withDigest(location: string, digest: Digest): string {
  const hash = location.indexOf('#');
  const base = hash >= 0 ? location.slice(0, hash) : location;
  const sep = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return `${base}${sep}digest=${encodeURIComponent(digest)}`;
}

async function checkSource(blob: BlobUpload & { source: BlobSource }): Promise<void> {
  const actual =
    typeof blob.source === 'string'
      ? await sha256File(blob.source).catch((err: NodeJS.ErrnoException) => {
          throw new KilnError('KILN_IO', `cannot read blob file ${blob.source}: ${err.code ?? err.message}`, {
            hint: 'the file to push must exist and be readable',
            cause: err,
          });
        })
      : { digest: sha256Digest(blob.source), size: blob.source.length };
  if (actual.digest !== blob.digest || actual.size !== blob.size) {
    const where = typeof blob.source === 'string' ? `blob file ${blob.source}` : 'blob bytes';
    throw new KilnError(
      'KILN_IO',
      `${where} hold ${actual.digest} (${actual.size} bytes), not the expected ${blob.digest} (${blob.size} bytes); nothing was sent`,
      {
        hint: 'the content changed after its digest was taken: rebuild, then push again',
      },
    );
  }
}

interface SourceReader {
  read(offset: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

async function openSource(source: string | Uint8Array): Promise<SourceReader> {
  if (typeof source !== 'string') {
    const bytes = Buffer.from(source.buffer, source.byteOffset, source.byteLength);
    return { read: async (offset, length) => bytes.subarray(offset, offset + length), close: async () => undefined };
  }
  const fh = await open(source, 'r');
  return {
    async read(offset, length) {
      const buf = Buffer.alloc(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await fh.read(buf, filled, length - filled, offset + filled);
        if (bytesRead === 0)
          throw new KilnError('KILN_IO', `blob file ${source} got shorter while it was being pushed`, {
            hint: 'do not change build outputs while publishing',
          });
        filled += bytesRead;
      }
      return buf;
    },
    close: () => fh.close(),
  };
}
