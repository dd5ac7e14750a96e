import { spawn } from 'node:child_process';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isKilnError } from '../../../src/core/errors.js';
import { INDEX_LOCK_NAME, openOciLayout } from '../../../src/registry/index.js';
import type { LockHolder, LockOptions } from '../../../src/registry/layout/lock.js';
import { DEFAULT_LOCK_OPTIONS, withFileLock } from '../../../src/registry/layout/lock.js';
import { cleanup, listTree, tempDir } from '../../helpers/oci.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await cleanup(d);
});
async function dir(): Promise<string> {
  const d = await tempDir();
  dirs.push(d);
  return d;
}

/** The pid of a process that has certainly exited. */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', () => (child.pid === undefined ? reject(new Error('no pid')) : resolve(child.pid)));
  });
}

function lockFile(pid: number, createdAt: number, host = hostname()): string {
  return JSON.stringify({ pid, host, token: 'someone-else', createdAt });
}

const fast = (extra: Partial<LockOptions> = {}): LockOptions => ({ ...DEFAULT_LOCK_OPTIONS, timeoutMs: 300, ...extra });

describe('index lock', () => {
  it('breaks a stale lock left by a dead process, then publishes normally', async () => {
    const root = path.join(await dir(), 'oci');
    const broken: LockHolder[] = [];
    const layout = await openOciLayout(root, { lock: { timeoutMs: 5000, onBreak: (h) => broken.push(h) } });
    const pid = await deadPid();
    await writeFile(path.join(root, INDEX_LOCK_NAME), lockFile(pid, Date.now()));
    const art = await layout.pushArtifact({
      file: path.join(root, 'oci-layout'),
      mediaType: 'application/json',
      title: 'x',
    });
    expect((await layout.index()).manifests.map((m) => m.digest)).toEqual([art.digest]);
    expect(broken.map((h) => h.pid)).toEqual([pid]);
    expect(await listTree(root)).not.toContain(INDEX_LOCK_NAME);
  });

  it('breaks a lock older than staleMs even when its pid is alive', async () => {
    const lockPath = path.join(await dir(), 'l.lock');
    await writeFile(lockPath, lockFile(process.ppid, Date.now() - 10 * 60_000));
    expect(await withFileLock(lockPath, async () => 'ran', fast())).toBe('ran');
  });

  it('waits for a fresh lock held by a live process and times out naming the lock and holder, leaving it intact', async () => {
    const lockPath = path.join(await dir(), 'l.lock');
    const content = lockFile(process.ppid, Date.now());
    await writeFile(lockPath, content);
    const err = await withFileLock(lockPath, async () => 'ran', fast()).catch((e: unknown) => e);
    expect(isKilnError(err, 'KILN_OCI_LAYOUT')).toBe(true);
    expect((err as Error).message).toContain(lockPath);
    expect((err as Error).message).toContain(`pid ${process.ppid}`);
    expect((err as { hint?: string }).hint).toContain(`delete ${lockPath}`);
    expect(await readFile(lockPath, 'utf8')).toBe(content);
  });

  it('does not judge a dead pid on another host (it cannot check it there); only age breaks that lock', async () => {
    const lockPath = path.join(await dir(), 'l.lock');
    await writeFile(lockPath, lockFile(await deadPid(), Date.now(), 'some-other-host'));
    await expect(withFileLock(lockPath, async () => 'ran', fast())).rejects.toMatchObject({ code: 'KILN_OCI_LAYOUT' });
    await writeFile(lockPath, lockFile(await deadPid(), Date.now() - 10 * 60_000, 'some-other-host'));
    expect(await withFileLock(lockPath, async () => 'ran', fast())).toBe('ran');
  });

  it('treats an unreadable lock file by its mtime', async () => {
    const lockPath = path.join(await dir(), 'l.lock');
    await writeFile(lockPath, '');
    await expect(withFileLock(lockPath, async () => 'ran', fast())).rejects.toMatchObject({ code: 'KILN_OCI_LAYOUT' });
    const old = new Date(Date.now() - 10 * 60_000);
    await utimes(lockPath, old, old);
    expect(await withFileLock(lockPath, async () => 'ran', fast())).toBe('ran');
  });

  it('keeps mutual exclusion when many waiters race to break the same stale lock', async () => {
    const d = await dir();
    const lockPath = path.join(d, 'l.lock');
    const counter = path.join(d, 'counter');
    await writeFile(counter, '0');
    await writeFile(lockPath, lockFile(await deadPid(), Date.now()));
    let inside = 0;
    let maxInside = 0;
    const breaks: LockHolder[] = [];
    const opts = { ...DEFAULT_LOCK_OPTIONS, timeoutMs: 10_000, onBreak: (h: LockHolder) => breaks.push(h) };
    await Promise.all(
      Array.from({ length: 40 }, () =>
        withFileLock(
          lockPath,
          async () => {
            inside++;
            maxInside = Math.max(maxInside, inside);
            const n = Number(await readFile(counter, 'utf8'));
            await new Promise((r) => setTimeout(r, 1));
            await writeFile(counter, String(n + 1));
            inside--;
          },
          opts,
        ),
      ),
    );
    expect(maxInside).toBe(1);
    expect(await readFile(counter, 'utf8')).toBe('40');
    expect(breaks).toHaveLength(1);
    expect((await listTree(d)).sort()).toEqual(['counter']);
  });

  it('releases the lock when the critical section throws', async () => {
    const d = await dir();
    const lockPath = path.join(d, 'l.lock');
    await expect(withFileLock(lockPath, async () => Promise.reject(new Error('boom')), fast())).rejects.toThrow('boom');
    expect(await listTree(d)).toEqual([]);
  });
});
