import { describe, expect, it } from 'vitest';
import { LocalCas } from '../../../src/cache/index.js';
import { sha256Digest } from '../../../src/core/digest.js';
import { tempDir } from '../../helpers/tmp.js';

const T0 = Date.UTC(2026, 0, 1);
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

/** A cache on a clock the test moves: blobs A..D of 100..400 bytes and one action entry, used in a known order. */
async function seeded() {
  let now = T0;
  const cas = new LocalCas({ dir: tempDir('kiln-gc-'), now: () => now });
  const blob = (name: string, size: number) => Buffer.alloc(size, name);
  const [a, b, c, d] = [blob('a', 100), blob('b', 200), blob('c', 300), blob('d', 400)];
  const key = '0f'.repeat(32);
  const put = async (s: number, data: Buffer) => {
    now = T0 + s * 1000;
    await cas.putBlob(sha256Digest(data), data);
  };
  await put(1, a);
  await put(2, b);
  now = T0 + 2500;
  await cas.putAction(key, Buffer.alloc(50, 'e'));
  await put(3, c);
  await put(4, d);
  now = T0 + 5000;
  expect(await cas.getBlob(sha256Digest(a))).toEqual(a); // a hit makes A the most recently used
  return { cas, digests: { a: sha256Digest(a), b: sha256Digest(b), c: sha256Digest(c), d: sha256Digest(d) }, key };
}

describe('cache stats and gc', () => {
  it('reports counts, bytes and the access-time range', async () => {
    const { cas } = await seeded();
    expect(await cas.stats()).toEqual({
      blobs: 4,
      actions: 1,
      bytes: 1050,
      oldestAccess: at(2),
      newestAccess: at(5),
    });
  });

  it('evicts exactly the least recently used until under the limit', async () => {
    const { cas, digests, key } = await seeded();
    const result = await cas.gc({ maxSizeBytes: 600 });
    expect(result.removed).toEqual([
      { kind: 'blob', name: digests.b, size: 200, lastAccess: at(2) },
      { kind: 'action', name: key, size: 50, lastAccess: at(2.5) },
      { kind: 'blob', name: digests.c, size: 300, lastAccess: at(3) },
    ]);
    expect(result).toMatchObject({ bytesBefore: 1050, bytesAfter: 500, staleTempFiles: 0 });
    expect(await cas.hasBlob(digests.a)).toBe(true);
    expect(await cas.hasBlob(digests.d)).toBe(true);
    expect(await cas.hasBlob(digests.b)).toBe(false);
    expect(await cas.getAction(key)).toBeUndefined();
    expect(await cas.stats()).toEqual({ blobs: 2, actions: 0, bytes: 500, oldestAccess: at(4), newestAccess: at(5) });
    // Already under the limit: nothing more goes.
    expect((await cas.gc({ maxSizeBytes: 600 })).removed).toEqual([]);
  });

  it('empties the cache with a limit of 0 and refuses a nonsense limit', async () => {
    const { cas } = await seeded();
    expect((await cas.gc({ maxSizeBytes: 0 })).removed).toHaveLength(5);
    expect(await cas.stats()).toEqual({
      blobs: 0,
      actions: 0,
      bytes: 0,
      oldestAccess: undefined,
      newestAccess: undefined,
    });
    await expect(cas.gc({ maxSizeBytes: -1 })).rejects.toMatchObject({ code: 'KILN_USAGE' });
  });

  it('gives an empty summary for a cache directory that does not exist yet', async () => {
    const cas = new LocalCas({ dir: `${tempDir()}/never-written` });
    expect(await cas.stats()).toMatchObject({ blobs: 0, actions: 0, bytes: 0 });
    expect((await cas.gc({ maxSizeBytes: 0 })).removed).toEqual([]);
  });
});
