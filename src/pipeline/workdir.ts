// Per-build scratch directories under $KILN_HOME/work, with an owner file so a crashed build's copy is swept later.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/fsutil.js';
import { type LockEnv, PROCESS_LOCK_ENV } from '../registry/index.js';

const OWNER = 'owner.json';

/** Creates the work dir of a build and marks it as owned by this process. */
export async function createWorkDir(dir: string, env: LockEnv = PROCESS_LOCK_ENV): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, OWNER), JSON.stringify({ pid: env.pid, host: env.host }));
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
