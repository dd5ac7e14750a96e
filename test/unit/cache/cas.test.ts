import { chmod, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalCas } from '../../../src/cache/index.js';
import { type Digest, sha256Digest } from '../../../src/core/digest.js';
import { isKilnError } from '../../../src/core/errors.js';
import { tempDir } from '../../helpers/tmp.js';

function open(dir = tempDir('kiln-cas-')): { cas: LocalCas; warnings: string[] } {
  const warnings: string[] = [];
  return { cas: new LocalCas({ dir, onWarning: (m) => warnings.push(m) }), warnings };
}

async function flipByte(path: string, at: number): Promise<void> {
  await chmod(path, 0o644);
  const bytes = await readFile(path);
  bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  await writeFile(path, bytes);
}

describe('local CAS blobs', () => {
  it('round-trips bytes under cas/<2 hex>/<hex>, counting hits, misses and bytes', async () => {
    const { cas, warnings } = open();
    const data = Buffer.from('hello, cache\n');
    const digest = sha256Digest(data);
    expect(await cas.getBlob(digest)).toBeUndefined();
    expect(await cas.hasBlob(digest)).toBe(false);
    await cas.putBlob(digest, data);
    const hex = digest.slice(7);
    expect(cas.blobPath(digest)).toBe(join(cas.dir, 'cas', hex.slice(0, 2), hex));
    expect(await readFile(cas.blobPath(digest))).toEqual(data);
    expect(await cas.hasBlob(digest)).toBe(true);
    expect(await cas.getBlob(digest)).toEqual(data);
    expect(cas.counters()).toEqual({
      hits: 1,
      misses: 1,
      corrupt: 0,
      bytesRead: data.length,
      bytesWritten: data.length,
    });
    // Same blob again: nothing rewritten, still one file, no temp files left behind.
    await cas.putBlob(digest, data);
    expect(cas.counters().bytesWritten).toBe(data.length);
    expect(await readdir(join(cas.dir, 'cas', hex.slice(0, 2)))).toEqual([hex]);
    expect(warnings).toEqual([]);
  });

  it('streams a file in and out (putBlobFromFile / getBlobToFile)', async () => {
    const { cas } = open();
    const work = tempDir();
    const src = join(work, 'big.bin');
    const data = Buffer.alloc(9 << 20, 'kiln'); // above the in-memory threshold, so the streamed path is taken
    await writeFile(src, data);
    await chmod(src, 0o755);
    const digest = sha256Digest(data);
    await cas.putBlobFromFile(digest, src);
    expect((await stat(cas.blobPath(digest))).mode & 0o777).toBe(0o644);
    const dest = join(work, 'restored.bin');
    expect(await cas.getBlobToFile(digest, dest)).toBe(true);
    expect((await readFile(dest)).equals(data)).toBe(true);
    expect(await cas.getBlobToFile(sha256Digest('absent'), join(work, 'absent'))).toBe(false);
    expect(await readdir(work)).toEqual(['big.bin', 'restored.bin']);
  });

  it('treats a blob with a flipped byte as a miss: evicted, counted, warned about', async () => {
    const { cas, warnings } = open();
    const data = Buffer.from('a blob that will rot on disk');
    const digest = sha256Digest(data);
    await cas.putBlob(digest, data);
    await flipByte(cas.blobPath(digest), 3);
    expect(await cas.getBlob(digest)).toBeUndefined();
    expect(await cas.hasBlob(digest)).toBe(false);
    expect(cas.counters()).toMatchObject({ hits: 0, misses: 1, corrupt: 1, bytesRead: 0 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`cache blob ${digest}`);
    expect(warnings[0]).toContain('evicted, treated as a miss');
    // Storing it again heals the cache.
    await cas.putBlob(digest, data);
    expect(await cas.getBlob(digest)).toEqual(data);
  });

  it('never writes a corrupt blob to a file destination', async () => {
    const { cas, warnings } = open();
    const work = tempDir();
    for (const size of [100, 6 << 20]) {
      const data = Buffer.alloc(size, 7);
      const digest = sha256Digest(data);
      await cas.putBlob(digest, data);
      await flipByte(cas.blobPath(digest), size - 1);
      const dest = join(work, `out-${size}`);
      expect(await cas.getBlobToFile(digest, dest)).toBe(false);
      expect(await readdir(work)).toEqual([]);
      expect(await cas.hasBlob(digest)).toBe(false);
    }
    expect(cas.counters().corrupt).toBe(2);
    expect(warnings).toHaveLength(2);
  });

  it('refuses to store bytes under a digest they do not have, leaving nothing behind', async () => {
    const { cas } = open();
    const digest = sha256Digest('the real content');
    const err = await cas.putBlob(digest, Buffer.from('other content')).catch((e: unknown) => e);
    expect(isKilnError(err, 'KILN_IO')).toBe(true);
    expect(await cas.hasBlob(digest)).toBe(false);
    expect(await readdir(join(cas.dir, 'cas', digest.slice(7, 9)))).toEqual([]);
  });

  it('refuses a source file that changed since it was hashed, or vanished, leaving nothing behind', async () => {
    const { cas } = open();
    const work = tempDir();
    const src = join(work, 'out.js');
    const digest = sha256Digest('as built');
    await writeFile(src, 'rewritten after hashing');
    const err = await cas.putBlobFromFile(digest, src).catch((e: unknown) => e);
    expect(isKilnError(err, 'KILN_IO')).toBe(true);
    expect((err as Error).message).toContain(src);
    await expect(cas.putBlobFromFile(digest, join(work, 'gone.js'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await cas.hasBlob(digest)).toBe(false);
    expect(await readdir(join(cas.dir, 'cas', digest.slice(7, 9)))).toEqual([]);
  });

  it('storing a blob again only refreshes its access time, unless the stored copy is corrupt: then it is rewritten', async () => {
    let now = Date.UTC(2026, 0, 1);
    const cas = new LocalCas({ dir: tempDir('kiln-cas-'), now: () => now });
    const data = Buffer.from('content stored three times');
    const digest = sha256Digest(data);
    const path = cas.blobPath(digest);
    await cas.putBlob(digest, data);
    const first = await stat(path);
    expect(first.mtimeMs).toBe(now);

    now += 60_000;
    await cas.putBlob(digest, data);
    expect(await stat(path)).toMatchObject({ ino: first.ino, mtimeMs: now });
    expect(cas.counters().bytesWritten).toBe(data.length);

    await flipByte(path, 0);
    now += 60_000;
    await cas.putBlob(digest, data);
    expect(await readFile(path)).toEqual(data);
    expect((await stat(path)).ino).not.toBe(first.ino);
    expect((await stat(path)).mtimeMs).toBe(now);
    expect(cas.counters().bytesWritten).toBe(2 * data.length);
    expect(await readdir(join(cas.dir, 'cas', digest.slice(7, 9)))).toEqual([digest.slice(7)]);
  });

  it('recreates its directories when the cache is removed underneath it', async () => {
    const { cas } = open();
    const data = Buffer.from('written after rm -rf');
    await cas.putBlob(sha256Digest('before'), Buffer.from('before'));
    await cas.putAction('cd'.repeat(32), Buffer.from('entry'));
    await rm(cas.dir, { recursive: true });
    await cas.putBlob(sha256Digest(data), data);
    await cas.putAction('cd'.repeat(32), Buffer.from('entry'));
    expect(await cas.getBlob(sha256Digest(data))).toEqual(data);
    expect((await cas.getAction('cd'.repeat(32)))?.toString()).toBe('entry');
  });

  it('rejects malformed digests and action keys before they become paths', async () => {
    const { cas } = open();
    await expect(cas.getBlob('sha256:../../etc/passwd' as Digest)).rejects.toMatchObject({ code: 'KILN_USAGE' });
    await expect(cas.getAction('../x')).rejects.toMatchObject({ code: 'KILN_USAGE' });
  });

  it('stores many writers of one blob in one process without a clash', async () => {
    const { cas } = open();
    const data = Buffer.from('same bytes from everyone');
    const digest = sha256Digest(data);
    await Promise.all(Array.from({ length: 16 }, () => cas.putBlob(digest, data)));
    expect(await cas.getBlob(digest)).toEqual(data);
    expect(await readdir(join(cas.dir, 'cas', digest.slice(7, 9)))).toEqual([digest.slice(7)]);
  });

  it('counts every byte of concurrent writes and reads', async () => {
    const { cas } = open();
    const blobs = Array.from({ length: 20 }, (_, i) => Buffer.alloc(100 + i, i));
    await Promise.all(blobs.map((b) => cas.putBlob(sha256Digest(b), b)));
    await Promise.all(blobs.map((b) => cas.getBlob(sha256Digest(b))));
    const total = blobs.reduce((n, b) => n + b.length, 0);
    expect(cas.counters()).toEqual({ hits: 20, misses: 0, corrupt: 0, bytesRead: total, bytesWritten: total });
  });
});

describe('local CAS action entries', () => {
  it('round-trips an entry under ac/<key> and replaces it on a second put', async () => {
    const { cas } = open();
    const key = 'ab'.repeat(32);
    expect(await cas.getAction(key)).toBeUndefined();
    await cas.putAction(key, Buffer.from('first'));
    expect(await readFile(join(cas.dir, 'ac', key), 'utf8')).toBe('first');
    await cas.putAction(key, Buffer.from('second'));
    expect((await cas.getAction(key))?.toString()).toBe('second');
    expect(await readdir(join(cas.dir, 'ac'))).toEqual([key]);
  });
});
