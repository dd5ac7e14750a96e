// Hostile data through the real CLI: advisories, file and zip entry names and lockfiles that try to steer the terminal
// (erase a line, forge "build succeeded", set the window title), records nested deep enough to overflow a recursive
// walker, and "files" that are devices or FIFOs. Each is refused or shown escaped, and the rest of the work goes on.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/core/errors.js';
import { demoProject } from '../helpers/project.js';
import { type KilnRun, kiln, makeRepo, writeFiles } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

const KILN = resolve(import.meta.dirname, '../../bin/kiln.js');

/** What an attacker puts in a name: erase the line, return, set the title, forge a line, reverse the rest. */
const EVIL = '\u001b[2K\r\u001b]0;owned\u0007\nkiln: build b1 succeeded in 0.1s\n\u202etxt.exe';

/** Fails when `text` holds anything that steers a terminal, or a line the attacker forged. */
function expectInert(text: string): void {
  const steering = [...text].filter((char) => {
    const n = char.codePointAt(0) ?? 0;
    return (n < 0x20 && char !== '\n') || (n >= 0x7f && n <= 0x9f) || (n >= 0x202a && n <= 0x202e);
  });
  expect(steering).toEqual([]);
  expect(text).not.toMatch(/^kiln: build b1 succeeded/m);
}

/** An OSV record against the demo's runtime dependency debug@4.4.3, with `id`. */
const debugRecord = (id: string) => ({
  id,
  modified: '2026-11-01T00:00:00Z',
  summary: `debug: ${EVIL}`,
  severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
  affected: [
    {
      package: { ecosystem: 'npm', name: 'debug' },
      ranges: [{ type: 'SEMVER', events: [{ introduced: '4.0.0' }, { fixed: '4.4.4' }] }],
    },
  ],
});

const goodRecord = (id: string) => ({
  id,
  modified: '2026-01-01T00:00:00Z',
  affected: [{ package: { ecosystem: 'npm', name: 'left-pad' }, versions: ['1.0.0'] }],
});

/** A schema-valid record whose `database_specific` nests `levels` objects deep (4,500 levels is about 27 KB). */
function deepRecordText(id: string, levels: number): string {
  const deep = `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
  return `{"id":"${id}","modified":"2026-01-01T00:00:00Z","database_specific":${deep}}`;
}

/** Runs the CLI, killed after `ms` (a hang is a failure, not a stuck test run). */
function kilnWithin(ms: number, args: string[], opts: { cwd: string; home: string }): KilnRun {
  const env = { ...process.env, KILN_HOME: opts.home, KILN_SIGNING_KEY: '' };
  const r = spawnSync(process.execPath, [KILN, ...args], { cwd: opts.cwd, env, encoding: 'utf8', timeout: ms });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

describe('kiln db import of hostile data', () => {
  it('rejects a record nested 4,500 levels deep, with its file and why, and imports the records around it', () => {
    const root = tempDir();
    const osv = join(root, 'osv');
    mkdirSync(osv);
    writeFileSync(join(osv, 'a.json'), JSON.stringify(goodRecord('x_a')));
    const deep = deepRecordText('x_deep', 4500);
    expect(deep.length).toBeGreaterThan(27_000);
    writeFileSync(join(osv, 'b-deep.json'), deep);
    writeFileSync(join(osv, 'c.json'), JSON.stringify(goodRecord('x_c')));
    const r = kiln(['db', 'import', osv], { cwd: root, home: join(root, 'home') });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).not.toMatch(/^ {4}at /m);
    expect(r.stderr).toContain('rejected b-deep.json:\n  (record): nests 4501 levels deep, more than the 64');
    expect(r.stdout).toContain('2 added, 0 updated, 0 unchanged, 1 rejected');
  });

  it('reads only regular files: a symlink to /dev/zero and a FIFO are rejected with why, not read or waited on', () => {
    const root = tempDir();
    const osv = join(root, 'osv');
    mkdirSync(osv);
    writeFileSync(join(osv, 'a.json'), JSON.stringify(goodRecord('x_a')));
    symlinkSync('/dev/zero', join(osv, 'b-zero.json'));
    execFileSync('mkfifo', [join(osv, 'c-fifo.json')]);
    symlinkSync('a.json', join(osv, 'd-link.json')); // a symlink to a regular file is that file
    const r = kilnWithin(30_000, ['db', 'import', osv, '--json'], { cwd: root, home: join(root, 'home') });
    expect(r.signal, 'kiln db import hung or ran away').toBeNull();
    expect(r.status, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.rejected).toEqual([
      {
        origin: 'b-zero.json',
        problems: ['(file): is a character device, not a regular file: only regular files are read'],
      },
      { origin: 'c-fifo.json', problems: ['(file): is a FIFO, not a regular file: only regular files are read'] },
    ]);
    expect(report.added + report.unchanged).toBe(2);
  });

  it('shows hostile file names, zip entry names and record keys escaped, and keeps them raw with --json', () => {
    const root = tempDir();
    const home = join(root, 'home');
    const osv = join(root, 'osv');
    mkdirSync(osv);
    writeFileSync(join(osv, `bad${EVIL}.json`), '{"id": "x_bad", "modified": ');
    writeFileSync(join(osv, 'keys.json'), JSON.stringify({ ...goodRecord('x_keys'), [`k${EVIL}`]: 1 }));
    const dir = kiln(['db', 'import', osv], { cwd: root, home });
    expect(dir.status, dir.stderr).toBe(1);
    expectInert(dir.stderr);
    expectInert(dir.stdout);
    expect(dir.stderr).toContain('rejected bad\\u001b[2K\\u000d\\u001b]0;owned\\u0007\\u000akiln: build b1 succeeded');
    expect(dir.stderr).toContain('must NOT have additional properties "k\\u001b[2K');
    const json = kiln(['db', 'import', osv, '--json'], { cwd: root, home });
    expect(JSON.parse(json.stdout).rejected[0].origin).toBe(`bad${EVIL}.json`);

    // The same through an OSV zip, whose entry names are the archive's to choose (Python writes the name as given).
    const zip = join(root, 'all.zip');
    const py = 'import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as z: z.writestr(sys.argv[2], "[]")';
    execFileSync('python3', ['-c', py, zip, `entry${EVIL}.json`]);
    const zipped = kiln(['db', 'import', zip], { cwd: root, home });
    expect(zipped.status, zipped.stderr).toBe(1);
    expectInert(zipped.stderr);
    expect(zipped.stderr).toContain('rejected all.zip:entry\\u001b[2K\\u000d');
  });
});

describe('hostile names in lockfiles, advisories and the findings they make', () => {
  it('shows a lockfile package name escaped in the error, one line per problem', () => {
    const root = tempDir();
    const lock = {
      name: 'app',
      version: '1.0.0',
      lockfileVersion: 3,
      packages: {
        '': { name: 'app', version: '1.0.0', dependencies: { a: '1' } },
        'node_modules/a': {
          version: '1.0.0',
          integrity: 'sha1-K0tC6BvM4dm7VHjScdgspbWQQtg=',
          dependencies: { [`evil${EVIL}`]: '^1' },
        },
      },
    };
    writeFiles(root, {
      'package.json': JSON.stringify({ name: 'app', version: '1.0.0', dependencies: { a: '1' } }),
      'package-lock.json': JSON.stringify(lock),
    });
    const r = kiln(['sbom', '.'], { cwd: root, home: join(root, 'home') });
    expect(r.status).toBe(ERROR_CODES.KILN_LOCKFILE_INVALID.exit);
    expect(r.stderr).toContain('kiln: error KILN_LOCKFILE_INVALID: package-lock.json is not a valid npm lockfile');
    expectInert(r.stderr);
    expect(r.stderr).toContain('depends on "evil\\u001b[2K\\u000d\\u001b]0;owned\\u0007\\u000akiln: build b1');
  });

  it('shows an advisory id escaped in kiln scan --all and in the policy violation, raw in --json', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const home = join(root, 'home');
    makeRepo(repo, demoProject());
    const built = kiln(['build'], { cwd: repo, home });
    expect(built.status, built.stderr).toBe(0);
    const id = `GHSA-kiln-evil${EVIL}`;
    const osv = join(root, 'osv');
    mkdirSync(osv);
    writeFileSync(join(osv, 'evil.json'), JSON.stringify(debugRecord(id)));
    const imported = kiln(['db', 'import', osv], { cwd: root, home });
    expect(imported.status, imported.stderr).toBe(0);

    const scan = kiln(['scan', '--all'], { cwd: repo, home });
    expect(scan.status, scan.stderr).toBe(1);
    expectInert(scan.stdout);
    expect(scan.stdout).toContain(
      'hello-node → debug@4.4.3: GHSA-kiln-evil\\u001b[2K\\u000d\\u001b]0;owned\\u0007\\u000akiln: build b1',
    );
    const scanJson = JSON.parse(kiln(['scan', '--all', '--json'], { cwd: repo, home }).stdout);
    expect(scanJson.affected[0].findings[0].id).toBe(id);

    const blocked = kiln(['build', '--force'], { cwd: repo, home });
    expect(blocked.status, blocked.stderr).toBe(5);
    expectInert(blocked.stderr);
    expect(blocked.stderr).toContain('  hello-node → debug@4.4.3: GHSA-kiln-evil\\u001b[2K');
    const blockedJson = JSON.parse(kiln(['build', '--force', '--json'], { cwd: repo, home }).stdout);
    expect(blockedJson.violations[0].id).toBe(id);
  });
});
