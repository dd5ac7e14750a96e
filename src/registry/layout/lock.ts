// A cross-process file lock (O_EXCL-style via link) so concurrent Kiln processes never lose an index update.
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { KilnError } from '../../core/errors.js';
import { createExclusive } from '../../platform/fsutil.js';
import { type LockEnv, PROCESS_LOCK_ENV } from '../../platform/processes.js';

export type { LockEnv } from '../../platform/processes.js';
export { PROCESS_LOCK_ENV } from '../../platform/processes.js';

/** How long to wait for a lock, when a held lock counts as stale, and who to tell when one is broken. */
export interface LockOptions {
  readonly staleMs: number;
  readonly timeoutMs: number;
  readonly env: LockEnv;
  readonly onBreak?: (holder: LockHolder) => void;
}

/** What a lock file says about its holder (pid/host/createdAt are absent when the file is unreadable). */
export interface LockHolder {
  readonly pid?: number;
  readonly host?: string;
  readonly token?: string;
  readonly createdAt: number;
  readonly raw: string;
  readonly ino: number;
}

/** Index updates take milliseconds: a lock older than 5 minutes belongs to a hung or dead process. */
export const DEFAULT_LOCK_OPTIONS: LockOptions = Object.freeze({
  staleMs: 5 * 60_000,
  timeoutMs: 2 * 60_000,
  env: PROCESS_LOCK_ENV,
});

/** Breaking is a few syscalls; a break lock older than this was left by a crashed breaker. */
const BREAK_STALE_MS = 10_000;

/**
 * Runs `fn` while holding the lock file `lockPath`. Stale locks (holder dead on this host, or older than
 * `staleMs`) are broken with care: only while holding `<lockPath>.break`, and only if the lock file is still
 * the very one judged stale (same inode and content), so a waiter never deletes another waiter's fresh lock.
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, opts: LockOptions): Promise<T> {
  const token = await acquire(lockPath, opts);
  try {
    return await fn();
  } finally {
    await release(lockPath, token);
  }
}

async function acquire(lockPath: string, opts: LockOptions): Promise<string> {
  const { env } = opts;
  const token = randomBytes(16).toString('hex');
  const deadline = env.now() + opts.timeoutMs;
  let delay = 2;
  for (;;) {
    const content = JSON.stringify({ pid: env.pid, host: env.host, token, createdAt: env.now() });
    if (await createExclusive(lockPath, content)) return token;
    const holder = await readHolder(lockPath);
    if (holder === undefined) continue;
    if (isStale(holder, opts.staleMs, env) && (await breakStale(lockPath, holder, opts))) continue;
    if (env.now() > deadline) throw timedOut(lockPath, holder, opts);
    await env.sleep(delay + Math.floor(Math.random() * delay));
    delay = Math.min(delay * 2, 100);
  }
}

async function release(lockPath: string, token: string): Promise<void> {
  const holder = await readHolder(lockPath);
  // Only remove our own lock; if it was broken as stale meanwhile, the file now belongs to someone else.
  if (holder?.token === token) await fsp.rm(lockPath, { force: true });
}

async function breakStale(lockPath: string, holder: LockHolder, opts: LockOptions): Promise<boolean> {
  const { env } = opts;
  const breakPath = `${lockPath}.break`;
  const me = JSON.stringify({
    pid: env.pid,
    host: env.host,
    token: randomBytes(8).toString('hex'),
    createdAt: env.now(),
  });
  if (!(await createExclusive(breakPath, me))) {
    const breaker = await readHolder(breakPath);
    if (breaker !== undefined && isStale(breaker, BREAK_STALE_MS, env)) await fsp.rm(breakPath, { force: true });
    return false;
  }
  try {
    const current = await readHolder(lockPath);
    if (current === undefined) return true;
    if (current.ino !== holder.ino || current.raw !== holder.raw) return false;
    await fsp.rm(lockPath, { force: true });
    opts.onBreak?.(holder);
    return true;
  } finally {
    await fsp.rm(breakPath, { force: true });
  }
}

function isStale(holder: LockHolder, staleMs: number, env: LockEnv): boolean {
  if (env.now() - holder.createdAt > staleMs) return true;
  return holder.pid !== undefined && holder.host === env.host && holder.pid !== env.pid && !env.isAlive(holder.pid);
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  let raw: string;
  let st: { ino: number; mtimeMs: number };
  try {
    const fh = await fsp.open(path, 'r');
    try {
      st = await fh.stat();
      raw = await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const base = { raw, ino: st.ino, createdAt: st.mtimeMs };
  try {
    const v = JSON.parse(raw) as Record<string, unknown>;
    return {
      ...base,
      ...(typeof v.pid === 'number' ? { pid: v.pid } : {}),
      ...(typeof v.host === 'string' ? { host: v.host } : {}),
      ...(typeof v.token === 'string' ? { token: v.token } : {}),
      ...(typeof v.createdAt === 'number' ? { createdAt: v.createdAt } : {}),
    };
  } catch {
    return base;
  }
}

function timedOut(lockPath: string, holder: LockHolder, opts: LockOptions): KilnError {
  const who =
    holder.pid === undefined ? 'an unknown holder' : `pid ${holder.pid} on ${holder.host ?? 'an unknown host'}`;
  return new KilnError(
    'KILN_OCI_LAYOUT',
    `timed out after ${opts.timeoutMs} ms waiting for lock ${lockPath} (held by ${who} since ${new Date(holder.createdAt).toISOString()})`,
    { hint: `Another Kiln process is publishing to this layout. If none is running, delete ${lockPath}.` },
  );
}
