// A Bazel HTTP remote cache client (bazel-remote, nginx WebDAV, Kiln's server): it can make builds faster, never wrong.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Digest } from '../../core/digest.js';
import { digestHex, isDigest, sha256Hex } from '../../core/digest.js';
import { KilnError } from '../../core/errors.js';
import type { BlobStore } from '../types.js';
import { isActionKey } from '../types.js';
import { readBounded, streamToFile } from './body.js';
import { headerSecrets, remoteHealth, warningGate } from './health.js';
import type { HttpRequest, HttpSettings } from './http.js';
import { discard, errorText, exchange } from './http.js';
import type { RemoteCacheOptions } from './options.js';
import { resolveRemoteOptions } from './options.js';

export type { RemoteCacheOptions } from './options.js';

/** What the remote cache did during one build (for `--json`, the store and the progress display). */
export interface RemoteCacheStats {
  /** Blob or action reads answered with verified (blobs) or size-bounded (actions) bytes. */
  readonly hits: number;
  /** Reads that produced nothing: 404, failures, corrupt or oversized answers, or the remote switched off. */
  readonly misses: number;
  /** Answers refused because their bytes did not match their address (or an action entry was oversized). */
  readonly corrupt: number;
  /** Requests that failed after their retries (network, timeout, HTTP error, local I/O). */
  readonly errors: number;
  readonly bytesDown: number;
  readonly bytesUp: number;
  /** False once the client gave up on the server for the rest of the build. */
  readonly available: boolean;
}

/** The remote tier of the cache: a BlobStore whose every failure is a miss (or a skipped upload) plus a warning. */
export interface RemoteCache extends BlobStore {
  /** The base URL without credentials, for messages. */
  readonly url: string;
  readonly mode: 'rw' | 'r';
  getBlobToFile(digest: Digest, dest: string): Promise<boolean>;
  putBlobFromFile(digest: Digest, path: string): Promise<void>;
  stats(): RemoteCacheStats;
}

type Verdict<T> =
  | { readonly kind: 'hit'; readonly value: T }
  | { readonly kind: 'corrupt' | 'too-large'; readonly detail: string };

/** Opens a client for a Bazel HTTP cache at `opts.url` (`<url>/ac/<key>`, `<url>/cas/<sha256>`); no request is made yet. */
export function remoteCache(opts: RemoteCacheOptions): RemoteCache {
  const o = resolveRemoteOptions(opts);
  const warn = warningGate({
    onWarning: o.onWarning,
    now: o.now,
    intervalMs: o.warnIntervalMs,
    secrets: [...headerSecrets(o.headers), ...o.urlSecrets],
  });
  const health = remoteHealth({ label: o.label, maxFailures: o.maxFailures, warn });
  const http: HttpSettings = {
    base: o.base,
    headers: o.headers,
    timeoutMs: o.timeoutMs,
    fetch: o.fetch,
    sleep: o.sleep,
  };
  const c = { hits: 0, misses: 0, corrupt: 0, errors: 0, bytesDown: 0, bytesUp: 0 };
  // Paths the server answered with wrong bytes: not there as far as hasBlob is concerned, so they are uploaded again.
  const bad = new Set<string>();
  const down = (n: number): void => {
    c.bytesDown += n;
  };

  async function read<T>(path: string, onBody: (res: Response) => Promise<Verdict<T>>): Promise<T | undefined> {
    const op = `GET ${short(path)}`;
    if (!health.readable()) return miss();
    try {
      const out = await exchange(http, { method: 'GET', path, attempts: o.retries + 1 }, onBody);
      if (out.kind === 'failed') {
        c.errors += 1;
        health.failed(op, out.failure);
        return miss();
      }
      health.succeeded();
      if (out.kind === 'missing') return miss();
      const v = out.value;
      if (v.kind === 'hit') {
        c.hits += 1;
        return v.value;
      }
      if (v.kind === 'corrupt') {
        c.corrupt += 1;
        bad.add(path);
        warn(
          'corrupt',
          `remote cache ${o.label}: ${op} returned bad content (${v.detail}); ignored, treated as a miss`,
        );
      } else {
        warn(
          'too-large',
          `remote cache ${o.label}: ${op} is too large to read into memory (${v.detail}); treated as a miss`,
        );
      }
      return miss();
    } catch (err) {
      c.errors += 1;
      warn('internal', `remote cache ${o.label}: ${op} failed (${errorText(err)}); treated as a miss`);
      return miss();
    }
  }

  function miss(): undefined {
    c.misses += 1;
    return undefined;
  }

  async function write(path: string, length: number, body: HttpRequest['body']): Promise<void> {
    if (o.mode !== 'rw' || !health.writable()) return;
    const op = `PUT ${short(path)}`;
    try {
      const attempts = Math.min(o.retries, 1) + 1;
      const out = await exchange(http, { method: 'PUT', path, attempts, body, contentLength: length }, discard);
      if (out.kind === 'ok') {
        health.succeeded();
        c.bytesUp += length;
        bad.delete(path);
        return;
      }
      c.errors += 1;
      const failure =
        out.kind === 'failed'
          ? out.failure
          : { kind: 'http' as const, detail: 'HTTP 404', status: 404, retryable: false };
      if (failure.kind === 'auth' || [404, 405, 501].includes(failure.status ?? 0)) health.writeRefused(op, failure);
      else health.failed(op, failure);
    } catch (err) {
      c.errors += 1;
      warn('internal', `remote cache ${o.label}: ${op} failed (${errorText(err)}); upload skipped`);
    }
  }

  return {
    url: o.label,
    mode: o.mode,
    getBlob: async (digest) =>
      read(`cas/${hexOf(digest)}`, async (res) => {
        const body = await readBounded(res, o.maxBlobBytes, down);
        if (body.kind === 'too-large') return body;
        const actual = sha256Hex(body.data);
        if (actual === hexOf(digest)) return { kind: 'hit', value: body.data };
        return { kind: 'corrupt', detail: `${body.data.length} bytes with sha256 ${actual.slice(0, 12)}…` };
      }),
    getBlobToFile: async (digest, dest) => {
      const hex = hexOf(digest);
      const got = await read(`cas/${hex}`, async (res): Promise<Verdict<true>> => {
        const out = await streamToFile(res, dest, hex, o.maxFileBytes, down);
        return out.kind === 'stored' ? { kind: 'hit', value: true } : out;
      });
      return got === true;
    },
    getAction: async (key) =>
      read(`ac/${keyOf(key)}`, async (res): Promise<Verdict<Buffer>> => {
        const body = await readBounded(res, o.maxActionBytes, down);
        if (body.kind === 'bytes') return { kind: 'hit', value: body.data };
        return { kind: 'corrupt', detail: `action entry too large: ${body.detail}` };
      }),
    hasBlob: async (digest) => {
      const path = `cas/${hexOf(digest)}`;
      if (!health.readable() || bad.has(path)) return false;
      try {
        const out = await exchange(http, { method: 'HEAD', path, attempts: o.retries + 1 }, discard);
        if (out.kind !== 'failed') health.succeeded();
        else {
          c.errors += 1;
          health.failed(`HEAD ${short(path)}`, out.failure);
        }
        return out.kind === 'ok';
      } catch (err) {
        c.errors += 1;
        warn('internal', `remote cache ${o.label}: HEAD ${short(path)} failed (${errorText(err)})`);
        return false;
      }
    },
    putBlob: async (digest, data) => write(`cas/${hexOf(digest)}`, data.length, () => data),
    putBlobFromFile: async (digest, path) => {
      const target = `cas/${hexOf(digest)}`;
      if (o.mode !== 'rw' || !health.writable()) return;
      let size: number;
      try {
        size = (await stat(path)).size;
      } catch (err) {
        warn('internal', `remote cache ${o.label}: cannot upload ${path} (${errorText(err)}); upload skipped`);
        return;
      }
      await write(target, size, () => Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>);
    },
    putAction: async (key, entry) => write(`ac/${keyOf(key)}`, entry.length, () => entry),
    stats: () => Object.freeze({ ...c, available: health.readable() }),
  };
}

// A malformed digest or key is the caller's bug, never the server's: it throws before it can become a URL.
function hexOf(digest: Digest): string {
  if (!isDigest(digest)) throw new KilnError('KILN_USAGE', `expected a sha256 digest, got ${JSON.stringify(digest)}`);
  return digestHex(digest);
}

function keyOf(key: string): string {
  if (!isActionKey(key))
    throw new KilnError('KILN_USAGE', `expected an action key (64 hex), got ${JSON.stringify(key)}`);
  return key;
}

function short(path: string): string {
  return `${path.slice(0, path.indexOf('/') + 13)}…`;
}
