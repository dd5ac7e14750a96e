import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../../src/core/errors.js';
import { copyFileArtifact, packDirectory, resolveInside } from '../../../src/package/index.js';
import { tempDir } from '../../helpers/tmp.js';

const EPOCH = 1_700_000_000;
const LONG = `${'deep/'.repeat(30)}file-with-a-rather-long-name-${'x'.repeat(120)}.txt`;

function makeTree(root: string, opts: { mtime: number; umask: 'open' | 'closed' }): void {
  mkdirSync(join(root, 'lib', 'nested'), { recursive: true });
  mkdirSync(join(root, LONG, '..'), { recursive: true });
  writeFileSync(join(root, 'index.js'), 'console.log("hi")\n');
  writeFileSync(join(root, 'lib', 'nested', 'a.txt'), 'a'.repeat(5000));
  writeFileSync(join(root, 'run.sh'), '#!/bin/sh\necho run\n');
  writeFileSync(join(root, LONG), 'long path');
  writeFileSync(join(root, 'ünïcode.txt'), 'utf-8 name');
  symlinkSync('lib/nested/a.txt', join(root, 'link-to-a'));
  chmodSync(join(root, 'run.sh'), opts.umask === 'open' ? 0o777 : 0o700);
  chmodSync(join(root, 'index.js'), opts.umask === 'open' ? 0o666 : 0o600);
  for (const f of ['index.js', 'run.sh', 'lib/nested/a.txt']) utimesSync(join(root, f), opts.mtime, opts.mtime);
}

describe('deterministic packaging', () => {
  it('gives the same bytes for the same tree whatever the modes, mtimes and location', async () => {
    const a = tempDir();
    const b = tempDir();
    makeTree(join(a, 'out'), { mtime: 1_000_000, umask: 'open' });
    makeTree(join(b, 'somewhere', 'else'), { mtime: 2_000_000_000, umask: 'closed' });
    const first = await packDirectory(join(a, 'out'), join(a, 'x.tgz'), EPOCH);
    const second = await packDirectory(join(b, 'somewhere', 'else'), join(b, 'y.tgz'), EPOCH);
    expect(second.digest).toBe(first.digest);
    expect(readFileSync(join(b, 'y.tgz')).equals(readFileSync(join(a, 'x.tgz')))).toBe(true);
    const other = await packDirectory(join(a, 'out'), join(a, 'z.tgz'), EPOCH + 1);
    expect(other.digest).not.toBe(first.digest);
  });

  it('writes an archive GNU tar reads back with normalized metadata', async () => {
    const dir = tempDir();
    makeTree(join(dir, 'out'), { mtime: 5, umask: 'open' });
    await packDirectory(join(dir, 'out'), join(dir, 'a.tgz'), EPOCH);
    const gz = readFileSync(join(dir, 'a.tgz'));
    expect([...gz.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]); // no name, no mtime
    const listing = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvzf', join(dir, 'a.tgz')], {
      encoding: 'utf8',
      env: { TZ: 'UTC', PATH: process.env.PATH },
    });
    const lines = listing.trim().split('\n');
    expect(lines.every((l) => l.includes(' 0/0 ') && l.includes('2023-11-14 22:13:20'))).toBe(true);
    expect(lines.find((l) => l.endsWith(' run.sh'))).toMatch(/^-rwxr-xr-x/);
    expect(lines.find((l) => l.endsWith(' index.js'))).toMatch(/^-rw-r--r--/);
    expect(lines.find((l) => l.includes('link-to-a'))).toMatch(/^lrwxrwxrwx.* link-to-a -> lib\/nested\/a.txt$/);
    const names = lines.map((l) => l.split(/ \d\d:\d\d:\d\d /)[1]?.split(' -> ')[0]);
    expect(names).toContain(LONG);
    expect(names.indexOf('lib/')).toBeLessThan(names.indexOf('lib/nested/a.txt'));
    const x = join(dir, 'x');
    mkdirSync(x);
    execFileSync('tar', ['-xzf', join(dir, 'a.tgz'), '-C', x]);
    expect(readFileSync(join(x, LONG), 'utf8')).toBe('long path');
    expect(readFileSync(join(x, 'ünïcode.txt'), 'utf8')).toBe('utf-8 name');
    // No pax timestamps (atime/ctime/mtime records) anywhere in the archive.
    const raw = execFileSync('gzip', ['-dc', join(dir, 'a.tgz')]).toString('latin1');
    expect(raw).not.toMatch(/\d+ (a|c|m)time=/);
  });

  it('refuses a symlink that leaves the output directory', async () => {
    for (const target of ['../../etc/passwd', '/etc/passwd', 'lib/../../../x']) {
      const dir = tempDir();
      mkdirSync(join(dir, 'out', 'lib'), { recursive: true });
      symlinkSync(target, join(dir, 'out', 'lib', 'evil'));
      const err = await packDirectory(join(dir, 'out'), join(dir, 'a.tgz'), EPOCH).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KilnError);
      expect((err as KilnError).code).toBe('KILN_PACKAGE_UNSAFE');
      expect((err as KilnError).message).toContain(`lib/evil → ${target}`);
      expect(spawnSync('ls', [join(dir, 'a.tgz')]).status).not.toBe(0); // nothing half-written is left
    }
  });

  it('refuses link chains that escape through another link, and keeps links that stay inside', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'out', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'out', 'sub', 'f'), 'x');
    symlinkSync('.', join(dir, 'out', 'a1'));
    symlinkSync('a1/..', join(dir, 'out', 'b')); // textually inside, really the parent of out
    const err = await packDirectory(join(dir, 'out'), join(dir, 'a.tgz'), EPOCH).catch((e: unknown) => e);
    expect((err as KilnError).code).toBe('KILN_PACKAGE_UNSAFE');
    expect((err as KilnError).message).toContain('symlink b → a1/..');
    rmSync(join(dir, 'out', 'b'));
    symlinkSync('a1/sub/f', join(dir, 'out', 'ok'));
    symlinkSync('sub/not-yet-there', join(dir, 'out', 'dangling'));
    await expect(packDirectory(join(dir, 'out'), join(dir, 'a.tgz'), EPOCH)).resolves.toMatchObject({
      size: expect.any(Number),
    });
  });

  it('refuses an artifact path that goes through a symlink', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'project'), { recursive: true });
    mkdirSync(join(dir, 'secret'));
    writeFileSync(join(dir, 'secret', 'creds.txt'), 'token');
    symlinkSync(join(dir, 'secret'), join(dir, 'project', 'out'));
    for (const rel of ['out', 'out/', 'out/creds.txt']) {
      const err = await resolveInside(join(dir, 'project'), rel, 'artifact x: path').catch((e: unknown) => e);
      expect((err as KilnError).code).toBe('KILN_PACKAGE_UNSAFE');
      expect((err as KilnError).message).toContain('goes through the symlink out');
    }
    mkdirSync(join(dir, 'project', 'real', 'dist'), { recursive: true });
    expect(await resolveInside(join(dir, 'project'), 'real/dist/', 'p')).toBe(join(dir, 'project', 'real', 'dist'));
  });

  it('copies a single-file artifact and refuses a directory', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'app.bin'), 'binary');
    const packed = await copyFileArtifact(join(dir, 'app.bin'), join(dir, 'copy.bin'));
    expect(packed.size).toBe(6);
    expect(execFileSync('sha256sum', [join(dir, 'copy.bin')], { encoding: 'utf8' }).split(' ')[0]).toBe(
      packed.digest.slice(7),
    );
    await expect(copyFileArtifact(dir, join(dir, 'x'))).rejects.toThrow(/not a regular file/);
  });

  it('streams: packaging 512 MiB keeps the process far below that in memory', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'out'));
    execFileSync('truncate', ['-s', '512M', join(dir, 'out', 'big.bin')]);
    const script = `
      import { packDirectory } from ${JSON.stringify(new URL('../../../dist/package/index.js', import.meta.url).href)};
      const r = await packDirectory(${JSON.stringify(join(dir, 'out'))}, ${JSON.stringify(join(dir, 'big.tgz'))}, 1);
      process.stdout.write(JSON.stringify({ size: r.size, maxRssKiB: process.resourceUsage().maxRSS }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
    expect(out.size).toBeGreaterThan(0);
    expect(out.maxRssKiB).toBeLessThan(200 * 1024);
  });
});
