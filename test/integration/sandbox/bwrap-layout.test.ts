import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onTestFinished as afterTest, describe, expect, it } from 'vitest';
import { bwrapArgs, sandboxEnv } from '../../../src/sandbox/bwrap-args.js';
import { bubblewrapRunner } from '../../../src/sandbox/index.js';
import { hostLayout, rootfsLayout, type SandboxLayout } from '../../../src/sandbox/layout.js';
import { miniRootfs } from '../../helpers/rootfs.js';
import { runStep } from '../../helpers/sandbox-steps.js';
import { tempDir } from '../../helpers/tmp.js';

describe('bubblewrap arguments', () => {
  it('are a pure function of the layout and the step (golden)', () => {
    const layout: SandboxLayout = {
      toolchain: [
        { kind: 'ro-bind', src: '/usr', dest: '/usr' },
        { kind: 'symlink', target: '/usr/bin', dest: '/bin' },
        { kind: 'mask-file', dest: '/etc/shadow' },
        { kind: 'tmpfs', dest: '/etc/ssl/private' },
      ],
      network: [{ kind: 'ro-bind', src: '/run/resolv.conf', dest: '/run/resolv.conf' }],
    };
    const step = { cwd: '/builds/b1/work', env: { B: '2', A: '1' }, network: false };
    expect(bwrapArgs(layout, step)).toEqual([
      ...['--die-with-parent', '--new-session', '--unshare-all', '--cap-drop', 'ALL', '--clearenv'],
      ...['--setenv', 'A', '1', '--setenv', 'B', '2', '--setenv', 'HOME', '/tmp/home', '--setenv', 'LANG', 'C.UTF-8'],
      ...['--setenv', 'PATH', '/usr/local/bin:/usr/bin:/bin', '--setenv', 'TZ', 'UTC'],
      ...['--ro-bind', '/usr', '/usr', '--symlink', '/usr/bin', '/bin', '--ro-bind', '/dev/null', '/etc/shadow'],
      ...['--tmpfs', '/etc/ssl/private', '--remount-ro', '/etc/ssl/private'],
      ...['--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--dir', '/tmp/home'],
      ...['--bind', '/builds/b1/work', '/work', '--chdir', '/work', '--remount-ro', '/'],
    ]);
    const networked = bwrapArgs(layout, { ...step, network: true });
    expect(networked.slice(0, 4)).toEqual(['--die-with-parent', '--new-session', '--unshare-all', '--share-net']);
    expect(networked.join(' ')).toContain('--ro-bind /run/resolv.conf /run/resolv.conf --dev /dev');
  });

  it('fix HOME and TZ, default PATH and LANG, and refuse variables bubblewrap cannot pass', () => {
    expect(sandboxEnv({ PATH: '/opt/bin', LANG: 'de_DE.UTF-8', HOME: '/root', TZ: 'Europe/Berlin' })).toEqual({
      PATH: '/opt/bin',
      LANG: 'de_DE.UTF-8',
      HOME: '/tmp/home',
      TZ: 'UTC',
    });
    expect(() => sandboxEnv({ 'A=B': '1' })).toThrow(
      expect.objectContaining({ code: 'KILN_SANDBOX', message: expect.stringContaining('"A=B"') }),
    );
    expect(() => sandboxEnv({ OK: 'a\0b' })).toThrow(expect.objectContaining({ code: 'KILN_SANDBOX' }));
  });
});

/** A temp dir outside /tmp (toolchain dirs cannot live there: the sandbox mounts its own /tmp). */
function hostTempDir(): string {
  const dir = mkdtempSync('/var/tmp/kiln-test-');
  afterTest(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('sandbox layout', () => {
  it('binds existing toolchain dirs, turns symlinked ones into symlinks, and masks hidden paths inside them', async () => {
    const root = hostTempDir();
    mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
    mkdirSync(join(root, 'usr', 'kiln-home', 'keys'), { recursive: true });
    writeFileSync(join(root, 'usr', 'kiln-home', 'keys', 'signing.key'), 'PRIVATE');
    writeFileSync(join(root, 'usr', 'cache.db'), 'x');
    symlinkSync('usr/bin', join(root, 'bin'));
    const outside = join(tempDir(), 'elsewhere');
    mkdirSync(outside);
    const layout = await hostLayout(
      [join(root, 'bin'), join(root, 'usr'), join(root, 'missing')],
      [join(root, 'usr', 'kiln-home'), join(root, 'bin', '..', 'usr', 'cache.db'), outside],
    );
    expect(layout.toolchain).toEqual([
      { kind: 'ro-bind', src: join(root, 'usr'), dest: join(root, 'usr') },
      { kind: 'symlink', target: join(root, 'usr', 'bin'), dest: join(root, 'bin') },
      { kind: 'tmpfs', dest: join(root, 'usr', 'kiln-home') },
      { kind: 'mask-file', dest: join(root, 'usr', 'cache.db') },
    ]);
  });

  it('refuses /, relative entries and places the sandbox mounts over (/tmp would hide /tmp/x)', async () => {
    for (const bad of ['/', 'usr', '/tmp/toolchain', '/work', '/proc/']) {
      await expect(hostLayout([bad], []), bad).rejects.toMatchObject({ code: 'KILN_SANDBOX' });
    }
  });

  it('hides a Kiln home that lives inside a toolchain directory from a real step', async () => {
    const root = hostTempDir();
    const opt = join(root, 'opt');
    mkdirSync(join(opt, 'tools'), { recursive: true });
    mkdirSync(join(opt, 'kiln-home', 'keys'), { recursive: true });
    writeFileSync(join(opt, 'tools', 'hello'), 'tool\n');
    writeFileSync(join(opt, 'kiln-home', 'keys', 'signing.key'), 'PRIVATE\n');
    const runner = bubblewrapRunner({
      toolchain: ['/usr', '/bin', '/lib', '/lib64', opt],
      hidden: [join(opt, 'kiln-home')],
    });
    const run = await runStep(
      runner,
      `cat ${opt}/tools/hello; ls -A ${opt}/kiln-home; cat ${opt}/kiln-home/keys/signing.key`,
    );
    expect(run.log).toContain('tool\n');
    expect(run.log).not.toContain('PRIVATE');
    expect(run.log).toContain('No such file or directory');
  });
});

describe('builder rootfs', () => {
  it('lays out every top-level entry except what the sandbox provides', async () => {
    const rootfs = miniRootfs();
    mkdirSync(join(rootfs, 'tmp'));
    mkdirSync(join(rootfs, 'proc'));
    const layout = await rootfsLayout(rootfs);
    const dests = layout.toolchain.map((op) => op.dest);
    expect(dests).not.toContain('/tmp');
    expect(dests).not.toContain('/proc');
    expect(layout.toolchain).toContainEqual({ kind: 'symlink', target: 'bin', dest: '/sbin' });
    expect(layout.toolchain).toContainEqual({ kind: 'ro-bind', src: join(rootfs, 'etc'), dest: '/etc' });
  });

  it('runs steps on the rootfs instead of the host toolchain', async () => {
    const runner = bubblewrapRunner({ rootfs: miniRootfs() });
    const run = await runStep(
      runner,
      'read -r line < /etc/os-release; echo "$line"; echo built > out.txt; test -e /usr/bin/node || echo no-node; echo > /etc/x',
    );
    expect(run.log).toContain('ID=kiln-test\nno-node\n');
    expect(run.log).toMatch(/Read-only file system/);
  });

  it('hides a key file kept inside the rootfs from a real step', async () => {
    const rootfs = miniRootfs();
    mkdirSync(join(rootfs, 'etc', 'keys'));
    writeFileSync(join(rootfs, 'etc', 'keys', 'signing.key'), 'PRIVATE\n');
    const runner = bubblewrapRunner({ rootfs, hidden: [join(rootfs, 'etc', 'keys', 'signing.key')] });
    const run = await runStep(
      runner,
      'read -r line < /etc/os-release; echo "$line"; read -r key < /etc/keys/signing.key; echo "$key"',
    );
    expect(run.log).toContain('ID=kiln-test\n');
    expect(run.log).not.toContain('PRIVATE');
  });

  it('fails with KILN_SANDBOX when the rootfs does not exist', async () => {
    const runner = bubblewrapRunner({ rootfs: join(tempDir(), 'nope') });
    await expect(runStep(runner, 'true')).rejects.toMatchObject({ code: 'KILN_SANDBOX' });
  });
});
