// Several Kiln processes on one cache: a writer killed mid-blob, and two writers of the same blob at once.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open as openFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalCas } from '../../../src/cache/index.js';
import { type Digest, sha256File } from '../../../src/core/digest.js';
import { buildCasWriter, startWriter } from '../../helpers/cache.js';
import { fileTempDir, tempDir } from '../../helpers/tmp.js';

const MB = 1 << 20;
let writer: string;
let big: { path: string; digest: Digest; size: number };

/** A file of `mb` MiB made of distinct random blocks (so a truncated or shuffled copy never hashes right). */
async function bigFile(path: string, mb: number): Promise<{ path: string; digest: Digest; size: number }> {
  const fh = await openFile(path, 'w');
  const hash = createHash('sha256');
  const block = randomBytes(MB);
  for (let i = 0; i < mb; i++) {
    block.writeUInt32BE(i, 0);
    hash.update(block);
    await fh.write(block);
  }
  await fh.close();
  return { path, digest: `sha256:${hash.digest('hex')}`, size: mb * MB };
}

beforeAll(async () => {
  const dir = fileTempDir('kiln-cas-proc-');
  writer = await buildCasWriter(join(dir, 'js'));
  big = await bigFile(join(dir, 'big.bin'), 200);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `dir` until a writer's temp file shows up (or `limitMs` passes). */
async function tempFileAppears(dir: string, limitMs: number): Promise<boolean> {
  const until = Date.now() + limitMs;
  while (Date.now() < until) {
    const names = await readdir(dir).catch(() => []);
    if (names.some((n) => n.includes('.tmp-'))) return true;
    await sleep(1);
  }
  return false;
}

describe('a writer killed with SIGKILL', () => {
  it('leaves no entry that reads as valid and no partial file under the final name', async () => {
    const outcomes: string[] = [];
    // Kill as soon as the temp file exists, then later and later (during copy, fsync, verify or after the rename).
    for (const delayMs of [0, 30, 150, 600]) {
      const dir = tempDir('kiln-cas-kill-');
      const cas = new LocalCas({ dir });
      const final = cas.blobPath(big.digest);
      const shard = join(dir, 'cas', big.digest.slice(7, 9));
      const w = startWriter(writer, [dir, big.digest, big.path, '-']);
      await w.printed('writing');
      expect(await tempFileAppears(shard, 10_000)).toBe(true);
      await sleep(delayMs);
      w.child.kill('SIGKILL');
      const { signal } = await w.exited;

      if (existsSync(final)) {
        // Only ever the complete, correct blob under the final name.
        expect((await stat(final)).size).toBe(big.size);
        expect((await sha256File(final)).digest).toBe(big.digest);
      }
      const got = await cas.getBlob(big.digest);
      expect(got === undefined || createHash('sha256').update(got).digest('hex') === big.digest.slice(7)).toBe(true);
      outcomes.push(
        signal === 'SIGKILL' ? (got === undefined ? 'killed-mid-write' : 'killed-after-rename') : 'finished',
      );

      // The leftover temp file never blocks a later write, and gc clears it once it is stale.
      await cas.putBlobFromFile(big.digest, big.path);
      expect((await sha256File(final)).digest).toBe(big.digest);
      const later = new LocalCas({ dir, now: () => Date.now() + 2 * 60 * 60 * 1000 });
      const gc = await later.gc({ maxSizeBytes: Number.MAX_SAFE_INTEGER });
      expect(gc.removed).toEqual([]);
      expect((await readdir(shard)).filter((n) => n.includes('.tmp-'))).toEqual([]);
    }
    // The first kill lands while the blob is still being written: that is the case under test.
    expect(outcomes[0]).toBe('killed-mid-write');
  });
});

describe('two processes writing the same blob at once', () => {
  it('both succeed and the stored blob is correct', async () => {
    const work = tempDir('kiln-cas-race-');
    const src = await bigFile(join(work, 'src.bin'), 40);
    for (let round = 0; round < 3; round++) {
      const dir = join(work, `cache-${round}`);
      const go = join(work, `go-${round}`);
      const writers = [0, 1].map(() => startWriter(writer, [dir, src.digest, src.path, go]));
      await Promise.all(writers.map((w) => w.printed('ready')));
      await writeFile(go, '');
      const results = await Promise.all(writers.map((w) => w.exited));
      for (const r of results) expect(r).toMatchObject({ code: 0, signal: null });
      const cas = new LocalCas({ dir });
      const shard = join(dir, 'cas', src.digest.slice(7, 9));
      expect(await readdir(shard)).toEqual([src.digest.slice(7)]);
      expect((await sha256File(cas.blobPath(src.digest))).digest).toBe(src.digest);
      expect(await cas.getBlobToFile(src.digest, join(work, `out-${round}`))).toBe(true);
    }
  });
});
