import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RemoteCacheOptions } from '../../../src/cache/remote/client.js';
import { remoteCache } from '../../../src/cache/remote/client.js';
import { digestHex, sha256Digest } from '../../../src/core/digest.js';
import { tempDir } from '../../helpers/tmp.js';

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

/** A misbehaving cache server on 127.0.0.1; records `METHOD /path` of every request. */
async function misbehaving(handler: Handler): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    handler(req, res, seen.length);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return { url: `http://127.0.0.1:${addr.port}`, seen };
}
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

function client(url: string, extra: Partial<RemoteCacheOptions> = {}) {
  const warnings: string[] = [];
  const cache = remoteCache({
    url,
    mode: 'rw',
    timeoutMs: 2000,
    sleep: async () => undefined,
    onWarning: (m) => warnings.push(m),
    ...extra,
  });
  return { cache, warnings };
}

const good = Buffer.from('the bytes the build needs');
const digest = sha256Digest(good);
const key = digestHex(sha256Digest('some action'));

describe('remote cache that misbehaves', () => {
  it('wrong bytes for a CAS blob: a miss counted as corrupt, never the wrong bytes', async () => {
    const srv = await misbehaving((_req, res) => res.end('evil bytes'));
    const { cache, warnings } = client(srv.url);
    expect(await cache.getBlob(digest)).toBeUndefined();
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 1, corrupt: 1, errors: 0, available: true });
    expect(warnings).toEqual([expect.stringMatching(/GET cas\/[0-9a-f]{12}… returned bad content.*treated as a miss/)]);
  });

  it('getBlobToFile with wrong bytes leaves no file at dest and no temp file', async () => {
    const srv = await misbehaving((_req, res) => res.end(Buffer.alloc(200_000, 7)));
    const { cache } = client(srv.url);
    const dir = tempDir();
    const dest = join(dir, 'restored');
    expect(await cache.getBlobToFile(digest, dest)).toBe(false);
    expect(existsSync(dest)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
    expect(cache.stats().corrupt).toBe(1);
  });

  it('a server that never answers: a miss once the timeout passes, not a hang', async () => {
    const srv = await misbehaving(() => undefined);
    const { cache, warnings } = client(srv.url, { timeoutMs: 300 });
    const started = Date.now();
    expect(await cache.getBlob(digest)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(srv.seen).toHaveLength(1);
    expect(warnings).toEqual([expect.stringContaining('no complete answer within 300 ms')]);
  });

  it('a server that stalls in the middle of a body also times out; nothing is written', async () => {
    const srv = await misbehaving((_req, res) => {
      res.writeHead(200, { 'content-length': String(good.length) });
      res.write(good.subarray(0, 5));
    });
    const { cache } = client(srv.url, { timeoutMs: 300 });
    const dir = tempDir();
    expect(await cache.getBlobToFile(digest, join(dir, 'x'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
    expect(cache.stats()).toMatchObject({ errors: 1, hits: 0 });
  });

  it('500s are retried: a later success is a hit', async () => {
    const srv = await misbehaving((_req, res, n) => {
      if (n <= 2) res.writeHead(500).end('oops');
      else res.end(good);
    });
    const { cache, warnings } = client(srv.url, { retries: 2 });
    expect(await cache.getBlob(digest)).toEqual(good);
    expect(srv.seen).toHaveLength(3);
    expect(warnings).toEqual([]);
  });

  it('persistent 500s: bounded retries, a miss, then the remote is switched off with one more warning', async () => {
    const srv = await misbehaving((_req, res) => res.writeHead(503).end());
    const { cache, warnings } = client(srv.url, { retries: 2, maxFailures: 2 });
    expect(await cache.getBlob(digest)).toBeUndefined();
    expect(srv.seen).toHaveLength(3);
    expect(await cache.getAction(key)).toBeUndefined();
    expect(srv.seen).toHaveLength(6);
    for (let i = 0; i < 10; i++) expect(await cache.getBlob(sha256Digest(`b${i}`))).toBeUndefined();
    await cache.putBlob(digest, good);
    expect(srv.seen).toHaveLength(6);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('HTTP 503');
    expect(warnings[1]).toContain('failed 2 times in a row');
    expect(cache.stats()).toMatchObject({ errors: 2, misses: 12, available: false });
  });

  it('PUT is retried once at most', async () => {
    const srv = await misbehaving((_req, res) => res.writeHead(500).end());
    const { cache } = client(srv.url, { retries: 5 });
    await cache.putBlob(digest, good);
    expect(srv.seen).toEqual([`PUT /cas/${digestHex(digest)}`, `PUT /cas/${digestHex(digest)}`]);
    expect(cache.stats().bytesUp).toBe(0);
  });

  it('a streamed upload is sent whole again on its one retry', async () => {
    const bodies: number[] = [];
    const srv = await misbehaving((req, res, n) => {
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
      });
      req.on('end', () => {
        bodies.push(size);
        res.writeHead(n === 1 ? 502 : 201).end();
      });
    });
    const file = join(tempDir(), 'upload.bin');
    writeFileSync(file, Buffer.alloc(300_000, 3));
    const { cache, warnings } = client(srv.url);
    await cache.putBlobFromFile(sha256Digest(Buffer.alloc(300_000, 3)), file);
    expect(bodies).toEqual([300_000, 300_000]);
    expect(cache.stats()).toMatchObject({ bytesUp: 300_000, errors: 0 });
    expect(warnings).toEqual([]);
  });

  it('a malformed key or digest is a caller bug: rejected before any request', async () => {
    const srv = await misbehaving((_req, res) => res.end(good));
    const { cache } = client(srv.url);
    await expect(cache.getAction('../../etc/passwd')).rejects.toMatchObject({ code: 'KILN_USAGE' });
    await expect(cache.getBlob('sha256:xyz' as `sha256:${string}`)).rejects.toMatchObject({ code: 'KILN_USAGE' });
    expect(srv.seen).toEqual([]);
  });

  it('a server refusing writes stops uploads but keeps serving reads', async () => {
    const srv = await misbehaving((req, res) => {
      if (req.method === 'PUT') res.writeHead(403).end();
      else res.end(good);
    });
    const { cache, warnings } = client(srv.url);
    await cache.putBlob(digest, good);
    await cache.putAction(key, Buffer.from('x'));
    expect(await cache.getBlob(digest)).toEqual(good);
    expect(srv.seen.filter((s) => s.startsWith('PUT'))).toHaveLength(1);
    expect(warnings).toEqual([expect.stringMatching(/refused a write .*HTTP 403.*use remote:r/)]);
  });

  it('an oversized action entry is refused without reading it all', async () => {
    const srv = await misbehaving((_req, res) => {
      res.writeHead(200); // no content-length: the client has to count
      const chunk = Buffer.alloc(64 * 1024, 1);
      const pump = (): void => {
        while (res.write(chunk)) if (res.writableLength > 8 * 1024 * 1024) return;
        res.once('drain', pump);
      };
      pump();
    });
    const { cache, warnings } = client(srv.url, { maxActionBytes: 1024 * 1024 });
    expect(await cache.getAction(key)).toBeUndefined();
    expect(cache.stats().corrupt).toBe(1);
    expect(cache.stats().bytesDown).toBeLessThan(2 * 1024 * 1024);
    expect(warnings[0]).toContain('action entry too large');
  });

  it('a declared oversized blob is not downloaded into memory', async () => {
    const srv = await misbehaving((_req, res) => res.end(Buffer.alloc(4096)));
    const { cache, warnings } = client(srv.url, { maxBlobBytes: 1024 });
    expect(await cache.getBlob(digest)).toBeUndefined();
    expect(cache.stats().bytesDown).toBe(0);
    expect(warnings[0]).toContain('too large to read into memory');
  });

  it('redirects are not followed', async () => {
    const target = await misbehaving((_req, res) => res.end(good));
    const srv = await misbehaving((req, res) => res.writeHead(302, { location: `${target.url}${req.url}` }).end());
    const { cache, warnings } = client(srv.url);
    expect(await cache.getBlob(digest)).toBeUndefined();
    expect(target.seen).toEqual([]);
    expect(warnings[0]).toContain('redirects are not followed');
  });

  it('warnings of one kind are rate-limited and then summarised', async () => {
    const srv = await misbehaving((_req, res) => res.end('wrong'));
    let now = 0;
    const { cache, warnings } = client(srv.url, { now: () => now, warnIntervalMs: 60_000 });
    for (let i = 0; i < 5; i++) await cache.getBlob(sha256Digest(`blob ${i}`));
    expect(warnings).toHaveLength(1);
    now = 61_000;
    await cache.getBlob(digest);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toContain('(4 similar warnings suppressed)');
    expect(cache.stats().corrupt).toBe(6);
  });

  it('a throwing warning sink does not turn a miss into a failure', async () => {
    const srv = await misbehaving((_req, res) => res.end('wrong'));
    const cache = remoteCache({
      url: srv.url,
      mode: 'rw',
      onWarning: () => {
        throw new Error('sink broke');
      },
    });
    expect(await cache.getBlob(digest)).toBeUndefined();
  });
});
