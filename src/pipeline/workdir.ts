// Per-build scratch directories (the clean copy, each step's directory), with an owner file so a crashed build's copy
// is swept later. They live on tmpfs when the machine has one: a step's inputs and outputs are created and deleted by
// the thousand, which on disk costs ~1 ms per file (ext4 skips recently deleted inodes when allocating).
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { sha256Hex } from '../core/digest.js';
import { writeFileAtomic } from '../core/fsutil.js';
import type { KilnPaths } from '../core/home.js';
import { type LockEnv, PROCESS_LOCK_ENV } from '../registry/index.js';

const OWNER = 'owner.json';
const TMPFS_MAGIC = 0x01021994;

/**
 * The directory that holds this home's build work dirs: `KILN_WORK_DIR` when set; else a private directory on
 * /dev/shm when that is a tmpfs (kept per home, mode 0700, refused if another user made it); else $KILN_HOME/work.
 */
export async function workRoot(
  paths: KilnPaths,
  env: Readonly<Record<string, string | undefined>>,
  shm = '/dev/shm',
): Promise<string> {
  if (env.KILN_WORK_DIR) return env.KILN_WORK_DIR;
  const uid = process.getuid?.();
  const isTmpfs = await fsp.statfs(shm).then(
    (st) => st.type === TMPFS_MAGIC,
    () => false,
  );
  if (uid === undefined || !isTmpfs) return paths.work;
  const mine = join(shm, `kiln-${uid}`);
  await fsp.mkdir(mine, { mode: 0o700 }).catch(() => undefined);
  const st = await fsp.lstat(mine).catch(() => undefined);
  if (!st?.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) return paths.work;
  return join(mine, sha256Hex(paths.home).slice(0, 16));
}

/** Creates the work dir of a build and marks it as owned by this process. */
export async function createWorkDir(dir: string, env: LockEnv = PROCESS_LOCK_ENV): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, OWNER), JSON.stringify({ pid: env.pid, host: env.host }));
}

/** Removes a build's work dir, and the root holding it once no other build uses it (so /dev/shm keeps no clutter). */
export async function removeWorkDir(dir: string): Promise<void> {
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.rmdir(dirname(dir)).catch(() => undefined); // fails while other builds' dirs are in it, as it should
}

/** Removes work dirs left by builds whose process died (kill -9, power loss); returns how many. */
export async function sweepStaleWorkDirs(workRoot: string, env: LockEnv = PROCESS_LOCK_ENV): Promise<number> {
  const names = await fsp.readdir(workRoot).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    const dir = join(workRoot, name);
    const owner = await fsp
      .readFile(join(dir, OWNER), 'utf8')
      .then((t) => JSON.parse(t) as { pid?: number; host?: string })
      .catch(() => undefined);
    const stale = owner
      ? owner.host === env.host && typeof owner.pid === 'number' && !env.isAlive(owner.pid)
      : await olderThan(dir, 24 * 3600 * 1000, env.now());
    if (stale) {
      await fsp.rm(dir, { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}

async function olderThan(dir: string, ms: number, now: number): Promise<boolean> {
  const stat = await fsp.stat(dir).catch(() => undefined);
  return stat !== undefined && now - stat.mtimeMs > ms;
}
