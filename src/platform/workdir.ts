// Per-build scratch directories (the clean copy, each step's directory), with an owner file so a crashed build's copy
// is swept later. They live on tmpfs when the machine has one: a step's inputs and outputs are created and deleted by
// the thousand, which on disk costs ~1 ms per file (ext4 skips recently deleted inodes when allocating).
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { sha256Hex } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import type { KilnPaths } from '../core/home.js';
import { writeFileAtomic } from './fsutil.js';
import { type LockEnv, ownUid, PROCESS_LOCK_ENV } from './processes.js';

const OWNER = 'owner.json';
const TMPFS_MAGIC = 0x01021994;
/**
 * Work dir names: build ids (`20261207T172734.123Z-9f8e7d6c5b4a3928`, or an earlier version's
 * `20261126T011234Z-3f9a1c`), or `plan-` and one. Nothing else is ever swept.
 */
const WORK_DIR_NAME = /^(plan-)?\d{8}T\d{6}(?:Z-[0-9a-f]{6}|\.\d{3}Z-[0-9a-f]{16})$/;
/** The suffix of a work dir being removed (`.<name>.removing`): garbage whoever left it. */
const REMOVING = '.removing';

/** Where to look for a tmpfs, and how much room it must have to be used (tests shrink these). */
export interface TmpfsProbe {
  readonly dir: string;
  readonly minFreeBytes: number;
  readonly mountinfo: string;
}

const SHM: TmpfsProbe = { dir: '/dev/shm', minFreeBytes: 2 * 1024 ** 3, mountinfo: '/proc/self/mountinfo' };

/**
 * The directory that holds this home's build work dirs. It is always one Kiln made for this user and home (mode
 * 0700): under `KILN_WORK_DIR` when that is set; else on /dev/shm when it is a tmpfs that allows executables and has
 * room (at least 2 GiB free: the 64 MB noexec /dev/shm of a default container does not qualify); else
 * $KILN_HOME/work.
 */
export async function workRoot(
  paths: KilnPaths,
  env: Readonly<Record<string, string | undefined>>,
  shm: TmpfsProbe = SHM,
): Promise<string> {
  const uid = ownUid();
  if (env.KILN_WORK_DIR) {
    const mine = uid === undefined ? env.KILN_WORK_DIR : await privateDir(env.KILN_WORK_DIR, uid);
    if (mine === undefined) {
      throw new KilnError('KILN_IO', `${join(env.KILN_WORK_DIR, `kiln-${uid}`)} is not a private directory of yours`, {
        hint: 'remove it (Kiln creates it with mode 0700), or point KILN_WORK_DIR at another directory',
      });
    }
    return join(mine, await homeKey(paths));
  }
  if (uid === undefined || !(await usableTmpfs(shm))) return paths.work;
  const mine = await privateDir(shm.dir, uid);
  return mine === undefined ? paths.work : join(mine, await homeKey(paths));
}

/**
 * One subdirectory per home and pid namespace: containers sharing /dev/shm (or a KILN_WORK_DIR) never see, nor sweep
 * as dead, each other's builds, whose pids mean nothing across namespaces.
 */
async function homeKey(paths: KilnPaths): Promise<string> {
  const pidNamespace = await fsp.readlink('/proc/self/ns/pid').catch(() => '');
  return sha256Hex(`${paths.home}\0${pidNamespace}`).slice(0, 16);
}

/** `parent/kiln-<uid>`, created mode 0700; undefined when it is a link, someone else's, or open to others. */
async function privateDir(parent: string, uid: number): Promise<string | undefined> {
  const dir = join(parent, `kiln-${uid}`);
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 }).catch(() => undefined);
  const st = await fsp.lstat(dir).catch(() => undefined);
  return st?.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0 ? dir : undefined;
}

/** A tmpfs at `probe.dir`, mounted without noexec (steps run what they build), with enough free space. */
async function usableTmpfs(probe: TmpfsProbe): Promise<boolean> {
  const st = await fsp.statfs(probe.dir).catch(() => undefined);
  if (st?.type !== TMPFS_MAGIC || st.bavail * st.bsize < probe.minFreeBytes) return false;
  const real = await fsp.realpath(probe.dir).catch(() => probe.dir);
  const options = mountOptions(await fsp.readFile(probe.mountinfo, 'utf8').catch(() => ''), real);
  return options !== undefined && !options.includes('noexec');
}

/** The per-mount options of the mount holding `path`, from /proc/self/mountinfo text (the deepest mount point). */
export function mountOptions(mountinfo: string, path: string): string[] | undefined {
  let best: { point: string; options: string[] } | undefined;
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const point = (fields[4] ?? '').replace(/\\040/g, ' ');
    const inside = point === '/' || path === point || path.startsWith(`${point}/`);
    if (fields.length < 6 || !inside || (best && point.length < best.point.length)) continue;
    best = { point, options: (fields[5] ?? '').split(',') };
  }
  return best?.options;
}

/** Creates the work dir of a build and marks it as owned by this process. */
export async function createWorkDir(dir: string, env: LockEnv = PROCESS_LOCK_ENV): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, OWNER), JSON.stringify({ pid: env.pid, host: env.host }));
}

/** Removes a build's work dir, and the root holding it once no other build uses it (so /dev/shm keeps no clutter). */
export async function removeWorkDir(dir: string): Promise<void> {
  // Renamed first, in one step: a process killed while the tree is deleted (its owner file may be gone already)
  // leaves a `.<id>.removing` dir, which the next build's sweep removes at once instead of after 24 h.
  const doomed = join(dirname(dir), `.${basename(dir)}${REMOVING}`);
  const renamed = await fsp.rename(dir, doomed).then(
    () => true,
    () => false,
  );
  await fsp.rm(renamed ? doomed : dir, { recursive: true, force: true });
  await fsp.rmdir(dirname(dir)).catch(() => undefined); // fails while other builds' dirs are in it, as it should
}

/** Removes work dirs left by builds whose process died (kill -9, power loss); returns how many. */
export async function sweepStaleWorkDirs(workRoot: string, env: LockEnv = PROCESS_LOCK_ENV): Promise<number> {
  const names = await fsp.readdir(workRoot).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    if (name.startsWith('.') && name.endsWith(REMOVING) && WORK_DIR_NAME.test(name.slice(1, -REMOVING.length))) {
      await fsp.rm(join(workRoot, name), { recursive: true, force: true });
      removed++;
      continue;
    }
    if (!WORK_DIR_NAME.test(name)) continue;
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
