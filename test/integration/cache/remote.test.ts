import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RemoteCache, RemoteCacheOptions } from '../../../src/cache/remote/client.js';
import { remoteCache } from '../../../src/cache/remote/client.js';
import { digestHex, sha256Digest } from '../../../src/core/digest.js';
import type { NginxCache } from '../../helpers/nginx.js';
import { startNginxCache } from '../../helpers/nginx.js';
import { tempDir } from '../../helpers/tmp.js';

let nginx: NginxCache;
beforeAll(async () => {
  nginx = await startNginxCache();
});
afterAll(async () => {
  await nginx?.stop();
});

function client(extra: Partial<RemoteCacheOptions> = {}): { cache: RemoteCache; warnings: string[] } {
  const warnings: string[] = [];
  const cache = remoteCache({
    url: nginx.url,
    mode: 'rw',
    timeoutMs: 5000,
    onWarning: (m) => warnings.push(m),
    ...extra,
  });
  return { cache, warnings };
}

const key = (s: string): string => digestHex(sha256Digest(`action:${s}`));

describe('remote cache against nginx (WebDAV)', () => {
  it('round-trips CAS blobs and action entries; HEAD answers; absent entries are plain misses', async () => {
    const { cache, warnings } = client();
    const blob = Buffer.from('hello remote cache');
    const digest = sha256Digest(blob);
    expect(await cache.hasBlob(digest)).toBe(false);
    expect(await cache.getBlob(digest)).toBeUndefined();
    await cache.putBlob(digest, blob);
    expect(await cache.hasBlob(digest)).toBe(true);
    expect(await cache.getBlob(digest)).toEqual(blob);

    const entry = Buffer.from('{"signed":"entry"}');
    expect(await cache.getAction(key('a'))).toBeUndefined();
    await cache.putAction(key('a'), entry);
    expect(await cache.getAction(key('a'))).toEqual(entry);

    expect(nginx.stored()).toEqual(expect.arrayContaining([`cas/${digestHex(digest)}`, `ac/${key('a')}`]));
    expect(cache.stats()).toEqual({
      hits: 2,
      misses: 2,
      corrupt: 0,
      errors: 0,
      bytesDown: blob.length + entry.length,
      bytesUp: blob.length + entry.length,
      available: true,
    });
    expect(warnings).toEqual([]);
  });

  it('streams files up and down; the downloaded file is bit for bit the uploaded one', async () => {
    const dir = tempDir();
    const src = join(dir, 'big.bin');
    const data = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 8)) & 0xff;
    writeFileSync(src, data);
    const digest = sha256Digest(data);
    const { cache, warnings } = client();
    await cache.putBlobFromFile(digest, src);
    const dest = join(dir, 'out', 'restored.bin');
    expect(await cache.getBlobToFile(digest, dest)).toBe(true);
    expect(readFileSync(dest).equals(data)).toBe(true);
    expect(readdirSync(join(dir, 'out'))).toEqual(['restored.bin']);
    expect(await cache.getBlobToFile(sha256Digest('absent'), join(dir, 'absent'))).toBe(false);
    expect(existsSync(join(dir, 'absent'))).toBe(false);
    expect(warnings).toEqual([]);
  });

  it('read-only mode never uploads: nothing reaches the server', async () => {
    const srv = await startNginxCache();
    try {
      const warnings: string[] = [];
      const cache = remoteCache({ url: srv.url, mode: 'r', onWarning: (m) => warnings.push(m) });
      const blob = Buffer.from('not to be uploaded');
      const file = join(tempDir(), 'f');
      writeFileSync(file, blob);
      await cache.putBlob(sha256Digest(blob), blob);
      await cache.putBlobFromFile(sha256Digest(blob), file);
      await cache.putAction(key('r'), Buffer.from('entry'));
      expect(await cache.getBlob(sha256Digest(blob))).toBeUndefined();
      expect(srv.stored()).toEqual([]);
      expect(srv.requests().filter((r) => r.startsWith('PUT'))).toEqual([]);
      expect(cache.stats().bytesUp).toBe(0);
      expect(warnings).toEqual([]);
    } finally {
      await srv.stop();
    }
  });

  it('a blob whose stored bytes do not match its address is a miss, never returned', async () => {
    const good = Buffer.from('the real content');
    const digest = sha256Digest(good);
    const { cache, warnings } = client();
    await cache.putBlob(digest, good);
    const flipped = Buffer.from(good);
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    writeFileSync(join(nginx.storeDir, 'cas', digestHex(digest)), flipped);
    expect(await cache.getBlob(digest)).toBeUndefined();
    const dest = join(tempDir(), 'x');
    expect(await cache.getBlobToFile(digest, dest)).toBe(false);
    expect(existsSync(dest)).toBe(false);
    expect(cache.stats()).toMatchObject({ hits: 0, corrupt: 2, available: true });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('bad content');
    // The server says it has the blob, but this client knows better: a writer uploads it again, which mends it.
    expect(await cache.hasBlob(digest)).toBe(false);
    await cache.putBlob(digest, good);
    expect(await cache.hasBlob(digest)).toBe(true);
    expect(await client().cache.getBlob(digest)).toEqual(good);
  });

  it('a stopped server: every call is a miss or a skipped upload, one warning, no throw, no more requests', async () => {
    const srv = await startNginxCache();
    const url = srv.url;
    await srv.stop();
    const warnings: string[] = [];
    let requests = 0;
    const cache = remoteCache({
      url,
      mode: 'rw',
      retries: 2,
      sleep: async () => undefined,
      onWarning: (m) => warnings.push(m),
      fetch: (input, init) => {
        requests += 1;
        return fetch(input, init);
      },
    });
    const blobs = Array.from({ length: 20 }, (_, i) => Buffer.from(`blob ${i}`));
    const results = await Promise.all(blobs.map((b) => cache.getBlob(sha256Digest(b))));
    expect(results.every((r) => r === undefined)).toBe(true);
    const before = requests;
    expect(await cache.hasBlob(sha256Digest(blobs[0] ?? ''))).toBe(false);
    expect(await cache.getAction(key('down'))).toBeUndefined();
    await cache.putBlob(sha256Digest('x'), Buffer.from('x'));
    await cache.putAction(key('down'), Buffer.from('entry'));
    expect(requests).toBe(before);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/unreachable.*ECONNREFUSED.*continuing without it/);
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 21, available: false, bytesUp: 0 });
  });
});
