import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newBuildId } from '../../../src/app/build/id.js';
import { kilnPaths } from '../../../src/core/home.js';
import {
  createWorkDir,
  mountOptions,
  removeWorkDir,
  sweepStaleWorkDirs,
  type TmpfsProbe,
  workRoot,
} from '../../../src/platform/workdir.js';
import { tempDir } from '../../helpers/tmp.js';

// /dev/shm is a tmpfs on Linux; a fresh dir inside it stands in for it, so the test never touches the real one.
const shmDirs: string[] = [];
function fakeShm(overrides: Partial<TmpfsProbe> = {}): TmpfsProbe {
  const dir = mkdtempSync('/dev/shm/kiln-test-');
  shmDirs.push(dir);
  return { dir, minFreeBytes: 0, mountinfo: '/proc/self/mountinfo', ...overrides };
}
afterEach(() => {
  for (const dir of shmDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const uid = process.getuid?.() ?? 0;

describe('workRoot', () => {
  it('puts work dirs in a private per-home directory on tmpfs', async () => {
    const shm = fakeShm();
    const a = await workRoot(kilnPaths('/home/a/.kiln'), {}, shm);
    const b = await workRoot(kilnPaths('/home/b/.kiln'), {}, shm);
    expect(a.startsWith(join(shm.dir, `kiln-${uid}`, ''))).toBe(true);
    expect(a).not.toBe(b);
    expect(statSync(join(shm.dir, `kiln-${uid}`)).mode & 0o777).toBe(0o700);
  });

  it('uses a private directory of its own under KILN_WORK_DIR, never the directory itself', async () => {
    const parent = tempDir();
    const root = await workRoot(kilnPaths('/h'), { KILN_WORK_DIR: parent }, fakeShm());
    expect(root.startsWith(join(parent, `kiln-${uid}`, ''))).toBe(true);
    chmodSync(join(parent, `kiln-${uid}`), 0o755);
    await expect(workRoot(kilnPaths('/h'), { KILN_WORK_DIR: parent }, fakeShm())).rejects.toMatchObject({
      code: 'KILN_IO',
    });
  });

  it('falls back to the home without a tmpfs, with a small one, or with a noexec one', async () => {
    const paths = kilnPaths(tempDir());
    expect(await workRoot(paths, {}, fakeShm({ dir: tempDir() }))).toBe(paths.work); // on disk, not tmpfs
    expect(await workRoot(paths, {}, fakeShm({ dir: '/nonexistent-shm' }))).toBe(paths.work);
    expect(await workRoot(paths, {}, fakeShm({ minFreeBytes: Number.MAX_SAFE_INTEGER }))).toBe(paths.work);
    const shm = fakeShm();
    const mountinfo = join(tempDir(), 'mountinfo');
    writeFileSync(
      mountinfo,
      `1 0 0:1 / / rw - ext4 /dev/vda rw\n2 1 0:2 / ${shm.dir} rw,nosuid,nodev,noexec - tmpfs shm rw\n`,
    );
    expect(await workRoot(paths, {}, { ...shm, mountinfo })).toBe(paths.work);
  });

  it('refuses a directory on tmpfs that others can write or that is a link', async () => {
    const paths = kilnPaths(tempDir());
    const open = fakeShm();
    mkdirSync(join(open.dir, `kiln-${uid}`));
    chmodSync(join(open.dir, `kiln-${uid}`), 0o777);
    expect(await workRoot(paths, {}, open)).toBe(paths.work);
    const linked = fakeShm();
    mkdirSync(join(linked.dir, 'elsewhere'), { mode: 0o700 });
    symlinkSync(join(linked.dir, 'elsewhere'), join(linked.dir, `kiln-${uid}`));
    expect(await workRoot(paths, {}, linked)).toBe(paths.work);
  });
});

describe('mountOptions', () => {
  it('reads the options of the deepest mount holding a path', () => {
    const info = [
      '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
      '30 22 0:5 / /dev rw,nosuid shared:2 - devtmpfs udev rw',
      '31 30 0:26 / /dev/shm rw,nosuid,nodev,noexec shared:3 - tmpfs tmpfs rw',
    ].join('\n');
    expect(mountOptions(info, '/dev/shm/kiln-0')).toContain('noexec');
    expect(mountOptions(info, '/dev/shmx')).not.toContain('noexec'); // /dev, not /dev/shm
    expect(mountOptions(info, '/home/me')).toEqual(['rw', 'relatime']);
  });
});

describe('work dirs', () => {
  const id = (n: number) => `20261126T0000${String(n).padStart(2, '0')}Z-abcdef`;

  it('sweeps the dirs of dead builds only, keeps live ones and anything not named like a build, and drops the root once empty', async () => {
    const root = join(fakeShm().dir, 'root');
    const alive = new Set([1]);
    const env = {
      pid: 2,
      host: 'h',
      isAlive: (pid: number) => alive.has(pid),
      now: () => Date.now(),
      sleep: async () => {},
    };
    await createWorkDir(join(root, id(1)), { ...env, pid: 99 });
    await createWorkDir(join(root, id(2)), { ...env, pid: 1 });
    writeFileSync(join(root, id(1), 'file'), 'x');
    // Old entries that are not Kiln's (no owner file, not named like a build) are never touched.
    mkdirSync(join(root, 'notes'));
    writeFileSync(join(root, 'notes.txt'), 'keep me');
    const old = new Date(Date.now() - 48 * 3600 * 1000);
    utimesSync(join(root, 'notes'), old, old);
    utimesSync(join(root, 'notes.txt'), old, old);
    expect(await sweepStaleWorkDirs(root, env)).toBe(1);
    expect(existsSync(join(root, id(1)))).toBe(false);
    expect(existsSync(join(root, 'notes.txt'))).toBe(true);
    rmSync(join(root, 'notes'), { recursive: true });
    rmSync(join(root, 'notes.txt'));
    await createWorkDir(join(root, id(3)), env);
    await removeWorkDir(join(root, id(3)));
    expect(existsSync(root)).toBe(true); // the live build's dir is still in it
    await removeWorkDir(join(root, id(2)));
    expect(existsSync(root)).toBe(false);
  });

  it('sweeps dead builds whose ids are of the current form too', async () => {
    const root = join(fakeShm().dir, 'root');
    const env = { pid: 2, host: 'h', isAlive: () => false, now: () => Date.now(), sleep: async () => {} };
    const current = newBuildId(new Date());
    for (const name of [current, `plan-${current}`, id(4)]) await createWorkDir(join(root, name), { ...env, pid: 99 });
    expect(await sweepStaleWorkDirs(root, env)).toBe(3);
  });

  it('sweeps a work dir whose removal was cut short (kill -9) at once, not after 24 hours', async () => {
    const root = join(fakeShm().dir, 'root');
    const env = { pid: 2, host: 'h', isAlive: () => true, now: () => Date.now(), sleep: async () => {} };
    // What a build killed while removing its work dir leaves: part of the tree, the owner file already gone.
    await createWorkDir(join(root, id(4)), env);
    mkdirSync(join(root, id(4), 'steps', 'compile'), { recursive: true });
    await removeWorkDir(join(root, id(4)));
    mkdirSync(join(root, `.${id(5)}.removing`, 'steps', 'compile'), { recursive: true });
    mkdirSync(join(root, '.notes.removing')); // not named like a work dir: never touched
    expect(await sweepStaleWorkDirs(root, env)).toBe(1);
    expect(readdirSync(root)).toEqual(['.notes.removing']);
  });
});
