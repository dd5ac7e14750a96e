// Scanning the local CAS: size and access-time figures, and least-recently-used eviction down to a size limit.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Digest } from '../../core/digest.js';
import { KilnError } from '../../core/errors.js';
import { isActionKey } from '../types.js';

/** What `kiln cache stats` shows: counts, bytes on disk (blobs + action entries) and the access-time range. */
export interface CasStats {
  readonly blobs: number;
  readonly actions: number;
  readonly bytes: number;
  /** ISO time of the least recently used blob or entry; undefined for an empty cache. */
  readonly oldestAccess: string | undefined;
  readonly newestAccess: string | undefined;
}

/** One evicted blob (`name` is its digest) or action entry (`name` is its key). */
export interface EvictedItem {
  readonly kind: 'blob' | 'action';
  readonly name: string;
  readonly size: number;
  readonly lastAccess: string;
}

/** What a gc run did: evicted items oldest first, and temp files left behind by killed writers. */
export interface GcResult {
  readonly removed: readonly EvictedItem[];
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly staleTempFiles: number;
}

/** A temp file older than this belongs to a writer that died (a live write never takes an hour). */
const STALE_TEMP_MS = 60 * 60 * 1000;
const HEX64 = /^[0-9a-f]{64}$/;
const SHARD = /^[0-9a-f]{2}$/;

interface Item {
  readonly kind: 'blob' | 'action' | 'temp';
  readonly name: string;
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** Scans `dir` and summarizes it. */
export async function statCache(dir: string): Promise<CasStats> {
  const items = (await scan(dir)).filter((i) => i.kind !== 'temp');
  const times = items.map((i) => i.mtimeMs);
  // A loop, not Math.min(...times): a big cache would overflow the argument list.
  const oldest = times.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
  const newest = times.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
  return Object.freeze({
    blobs: items.filter((i) => i.kind === 'blob').length,
    actions: items.filter((i) => i.kind === 'action').length,
    bytes: items.reduce((sum, i) => sum + i.size, 0),
    oldestAccess: times.length ? new Date(oldest).toISOString() : undefined,
    newestAccess: times.length ? new Date(newest).toISOString() : undefined,
  });
}

/** Evicts least-recently-used items of `dir` until at most `maxSizeBytes` remain; removes stale temp files. */
export async function gcCache(dir: string, maxSizeBytes: number, nowMs: number): Promise<GcResult> {
  if (!Number.isSafeInteger(maxSizeBytes) || maxSizeBytes < 0) {
    throw new KilnError('KILN_USAGE', `cache size limit must be a whole number of bytes >= 0, got ${maxSizeBytes}`);
  }
  const all = await scan(dir);
  let staleTempFiles = 0;
  for (const temp of all.filter((i) => i.kind === 'temp' && nowMs - i.mtimeMs > STALE_TEMP_MS)) {
    await fsp.rm(temp.path, { force: true });
    staleTempFiles++;
  }
  const items = all
    .filter((i) => i.kind !== 'temp')
    .sort((a, b) => a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const bytesBefore = items.reduce((sum, i) => sum + i.size, 0);
  let total = bytesBefore;
  const removed: EvictedItem[] = [];
  for (const item of items) {
    if (total <= maxSizeBytes) break;
    const outcome = await evict(item);
    if (outcome === 'kept') continue;
    total -= item.size;
    if (outcome === 'removed') {
      const kind = item.kind === 'blob' ? 'blob' : 'action';
      removed.push(
        Object.freeze({ kind, name: item.name, size: item.size, lastAccess: new Date(item.mtimeMs).toISOString() }),
      );
    }
  }
  return Object.freeze({ removed: Object.freeze(removed), bytesBefore, bytesAfter: total, staleTempFiles });
}

/** Unlinks `item` unless another process used it since the scan (then it is no longer least recent). */
async function evict(item: Item): Promise<'removed' | 'gone' | 'kept'> {
  try {
    const st = await fsp.lstat(item.path);
    if (st.mtimeMs !== item.mtimeMs) return 'kept';
    await fsp.unlink(item.path);
    return 'removed';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
}

async function scan(dir: string): Promise<Item[]> {
  const casDir = join(dir, 'cas');
  const shards = (await list(casDir)).filter((s) => SHARD.test(s));
  const perShard = await Promise.all(shards.map((s) => scanDir(join(casDir, s), 'blob')));
  return [...perShard.flat(), ...(await scanDir(join(dir, 'ac'), 'action'))];
}

async function scanDir(dir: string, kind: 'blob' | 'action'): Promise<Item[]> {
  const items: (Item | undefined)[] = await Promise.all(
    (await list(dir)).map(async (name) => {
      const itemKind = name.startsWith('.') && name.includes('.tmp-') ? 'temp' : HEX64.test(name) ? kind : undefined;
      if (itemKind === undefined) return undefined;
      const st = await fsp.lstat(join(dir, name)).catch(() => undefined);
      if (!st?.isFile()) return undefined;
      const itemName = itemKind === 'blob' ? (`sha256:${name}` satisfies Digest) : name;
      return { kind: itemKind, name: itemName, path: join(dir, name), size: st.size, mtimeMs: st.mtimeMs };
    }),
  );
  return items.filter((i): i is Item => i !== undefined && (i.kind !== 'action' || isActionKey(i.name)));
}

async function list(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
