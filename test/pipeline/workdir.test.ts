import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kilnPaths } from '../../src/core/home.js';
import { createWorkDir, removeWorkDir, sweepStaleWorkDirs, workRoot } from '../../src/pipeline/workdir.js';
import { tempDir } from '../helpers/tmp.js';

// /dev/shm is a tmpfs on Linux; a fresh dir inside it stands in for it, so the test never touches the real one.
const shmDirs: string[] = [];
function fakeShm(): string {
  const dir = mkdtempSync('/dev/shm/kiln-test-');
  shmDirs.push(dir);
  return dir;
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
    expect(a.startsWith(join(shm, `kiln-${uid}`, ''))).toBe(true);
    expect(a).not.toBe(b);
    expect(statSync(join(shm, `kiln-${uid}`)).mode & 0o777).toBe(0o700);
  });

  it('uses KILN_WORK_DIR when set', async () => {
    expect(await workRoot(kilnPaths('/h'), { KILN_WORK_DIR: '/big/disk/kiln' }, fakeShm())).toBe('/big/disk/kiln');
  });

  it('falls back to the home when there is no tmpfs', async () => {
    const paths = kilnPaths(tempDir());
    expect(await workRoot(paths, {}, tempDir())).toBe(paths.work); // the temp dir is on disk, not tmpfs
    expect(await workRoot(paths, {}, '/nonexistent-shm')).toBe(paths.work);
  });

  it('refuses a directory on tmpfs that others can write or that is a link', async () => {
    const paths = kilnPaths(tempDir());
    const open = fakeShm();
    mkdirSync(join(open, `kiln-${uid}`));
    chmodSync(join(open, `kiln-${uid}`), 0o777);
    expect(await workRoot(paths, {}, open)).toBe(paths.work);
    const linked = fakeShm();
    mkdirSync(join(linked, 'elsewhere'), { mode: 0o700 });
    symlinkSync(join(linked, 'elsewhere'), join(linked, `kiln-${uid}`));
    expect(await workRoot(paths, {}, linked)).toBe(paths.work);
  });
});

describe('work dirs', () => {
  it('sweeps the dirs of dead builds, keeps live ones, and drops the root once empty', async () => {
    const root = join(fakeShm(), 'root');
    const alive = new Set([1]);
    const env = {
      pid: 2,
      host: 'h',
      isAlive: (pid: number) => alive.has(pid),
      now: () => Date.now(),
      sleep: async () => {},
    };
    await createWorkDir(join(root, 'dead'), { ...env, pid: 99 });
    await createWorkDir(join(root, 'live'), { ...env, pid: 1 });
    writeFileSync(join(root, 'dead', 'file'), 'x');
    expect(await sweepStaleWorkDirs(root, env)).toBe(1);
    expect(existsSync(join(root, 'dead'))).toBe(false);
    await createWorkDir(join(root, 'mine'), env);
    await removeWorkDir(join(root, 'mine'));
    expect(existsSync(root)).toBe(true); // "live" is still in it
    await removeWorkDir(join(root, 'live'));
    expect(existsSync(root)).toBe(false);
  });
});
