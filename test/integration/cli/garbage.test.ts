// No input ends in a stack trace: every command of `kiln --help` is fed garbage (garbage and missing files, directories
// where files belong, unknown flags, surplus arguments, a garbage kiln.yaml, lockfile, bundle, OSV zip and directory,
// and a home that is a file) and must answer with a coded error (`kiln: error KILN_…`), never a bug (exit 70). The
// generic cases run for every command main.ts lists, so a new command is covered without touching this file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CliContext } from '../../../src/cli/context.js';
import { COMMAND_SUMMARIES, main } from '../../../src/cli/main.js';
import { makeRepo } from '../../helpers/repo.js';
import { fileTempDir } from '../../helpers/tmp.js';

interface Paths {
  root: string;
  garbage: string;
  missing: string;
  dir: string;
  repos: Record<string, string>;
  project: string;
  dirs: string;
  osvDir: string;
  osvZip: string;
  bundle: string;
}

/** Bytes that are nothing in particular: not UTF-8, not JSON, not YAML, not a ZIP. */
const GARBAGE = Buffer.from([0xff, 0xfe, 0x00, 0x1b, 0x5b, 0x32, 0x4a, 0x7b, 0x5b, 0x22, 0x80, 0x0a, 0xc3, 0x28]);

/** kiln.yaml contents a person or an attacker may commit. */
const KILN_YAMLS: Record<string, string | Buffer> = {
  bytes: GARBAGE,
  unclosed: 'name: [demo\nsteps: {',
  list: '- name: demo\n- steps\n',
  scalar: '42\n',
  empty: '',
  'wrong types': 'name: 5\nsteps: "yes"\noutputs: [1, {a: b}]\n',
  'deep nesting': `${'['.repeat(5000)}${']'.repeat(5000)}\n`,
  'unknown step kind': 'name: demo\nsteps:\n  s:\n    run: 42\n    needs: [missing]\n    inputs: 7\n',
};

function makePaths(): Paths {
  const root = fileTempDir('kiln-garbage-');
  const garbage = join(root, 'garbage.bin');
  writeFileSync(garbage, GARBAGE);
  const dir = join(root, 'a-directory');
  mkdirSync(join(dir, 'kiln.yaml'), { recursive: true }); // a directory where a file is expected
  const repos: Record<string, string> = {};
  for (const [name, yaml] of Object.entries(KILN_YAMLS)) {
    repos[name] = join(root, `repo-${name.replace(/ /g, '-')}`);
    makeRepo(repos[name], { 'kiln.yaml': yaml.toString() });
    writeFileSync(join(repos[name], 'kiln.yaml'), yaml); // the bytes as they are, committed or not
  }
  repos['a directory'] = join(root, 'repo-kiln-yaml-directory');
  makeRepo(repos['a directory'], { 'kiln.yaml/steps.yaml': 'steps: {}\n', 'package-lock.json/x': '{}' });
  const project = join(root, 'project');
  mkdirSync(project);
  for (const file of ['package.json', 'package-lock.json', 'pnpm-lock.yaml', 'yarn.lock', 'go.sum', 'Cargo.lock']) {
    writeFileSync(join(project, file), GARBAGE);
  }
  const dirs = join(root, 'project-of-directories'); // every file Kiln reads is a directory
  for (const file of ['kiln.yaml', 'package.json', 'package-lock.json', 'pnpm-lock.yaml', 'yarn.lock', 'go.sum']) {
    mkdirSync(join(dirs, file), { recursive: true });
  }
  const osvDir = join(root, 'osv');
  mkdirSync(join(osvDir, 'sub.json'), { recursive: true });
  writeFileSync(join(osvDir, 'a.json'), GARBAGE);
  writeFileSync(join(osvDir, 'b.json'), '{"id": 5, "affected": "all"}');
  const osvZip = join(root, 'all.zip');
  writeFileSync(osvZip, Buffer.concat([Buffer.from('PK\u0003\u0004'), GARBAGE, Buffer.from('PK\u0005\u0006')]));
  const bundle = join(root, 'artifact.tgz.sigstore.json');
  writeFileSync(join(root, 'artifact.tgz'), GARBAGE);
  writeFileSync(bundle, '{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "dsseEnvelope": 7}');
  const missing = join(root, 'no', 'such', 'path');
  return { root, garbage, missing, dir, repos, project, dirs, osvDir, osvZip, bundle };
}

/** Invocations every command gets. */
function genericCases(command: string, p: Paths): string[][] {
  return [
    [command, '--no-such-flag'],
    [command, p.garbage],
    [command, p.missing],
    [command, p.dir],
    [command, p.garbage, p.garbage, p.garbage, p.garbage, p.garbage],
    [command, '--json', p.garbage],
    [command, '', '--json'],
  ];
}

/** Invocations that reach deeper into each command: its subcommands and the files it reads. */
function specificCases(p: Paths): string[][] {
  const digest = `sha256:${'0'.repeat(64)}`;
  return [
    ['db', 'import', p.garbage],
    ['db', 'import', p.missing],
    ['db', 'import', p.osvZip],
    ['db', 'import', p.osvDir],
    ['db', 'import', p.dir],
    ['db', 'nonsense'],
    ['verify', join(p.root, 'artifact.tgz')],
    ['verify', join(p.root, 'artifact.tgz'), '--bundle', p.garbage],
    ['verify', join(p.root, 'artifact.tgz'), '--bundle', p.dir],
    ['verify', join(p.root, 'artifact.tgz'), '--key', p.garbage],
    ['verify', join(p.root, 'artifact.tgz'), '--trusted-root', p.garbage],
    ['verify', join(p.root, 'artifact.tgz'), '--require', 'nonsense,,'],
    ['verify', 'oci://%%%/x'],
    ['verify', `oci://127.0.0.1:1/x@${digest}`],
    ['sbom', p.project],
    ['sbom', p.project, '--format', 'nonsense'],
    ['sbom', p.project, '--output', p.dir],
    ['config', 'check', p.garbage],
    ['config', 'check', p.dir],
    ['config', 'nonsense'],
    ['config', 'check', '--server', p.garbage],
    ['config', 'check', '--server', p.dir],
    ['config', 'check', '--server', p.missing],
    ['config', 'check', '--server', join(p.repos['deep nesting'] ?? p.root, 'kiln.yaml')],
    ['config', 'check', '--server'],
    ['config', 'schema', '--server', p.garbage],
    ['publish', 'nonsense', '--to', '%%%'],
    ['publish', 'nonsense', '--to', '127.0.0.1:1/repo'],
    ['promote', p.garbage, '--to', 'prod'],
    ['promote', `oci://127.0.0.1:1/x@${digest}`, '--to', 'prod', '--trusted-key', p.garbage],
    ['scan', 'nonsense'],
    ['scan', '--all', '--project', p.garbage],
    ['builds', '--limit', 'abc'],
    ['builds', '--limit', '-5'],
    ['show', 'nonsense'],
    ['gc', p.project],
    ['cache', 'gc', '--max-size', 'lots'],
    ['cache', 'nonsense'],
    ['keys', 'generate', '--out', p.dir],
    ['keys', 'generate', '--out', join(p.missing, 'k')],
    ['keys', 'generate', '--algorithm', 'rot13', '--out', join(p.root, 'k')],
    ['build', '--key', p.garbage],
    ['build', '--runner', 'nonsense'],
    ['nonsense-command'],
  ];
}

/** Runs `kiln argv` in process, with `home` as KILN_HOME; returns its status and what it printed. */
async function run(argv: string[], cwd: string, home: string) {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  const ctx: CliContext = {
    cwd,
    env: { PATH: process.env.PATH, HOME: home },
    stdout: sink((s) => {
      stdout += s;
    }),
    stderr: sink((s) => {
      stderr += s;
    }),
    kilnHome: home,
    version: '0.0.0-test',
    now: () => new Date(),
  };
  const status = await main(argv, ctx);
  return { status, stdout, stderr };
}

/**
 * A coded error, never a bug: not exit 70, no stack frame, and for every failure a `kiln: error KILN_…` line, or an
 * outcome a command documents: `kiln db import`'s rejections (exit 1, each bad file named with why, the rest
 * imported) and `kiln verify`'s failed checks (exit 3, each check with why).
 */
function expectHandled(r: { status: number; stdout: string; stderr: string }, what: string): void {
  expect(r.status, `${what}\n${r.stderr}`).not.toBe(70);
  expect(r.stderr, what).not.toMatch(/^ {4}at /m);
  expect(r.stderr, what).not.toContain('kiln: internal error');
  if (r.status === 1 && /^kiln: rejected .+:$/m.test(r.stderr)) return;
  if (r.status === 3 && /^NOT verified: /m.test(r.stdout)) return;
  if (r.status !== 0) expect(r.stderr, what).toMatch(/^kiln: error KILN_[A-Z_]+: /m);
}

/** Commands that, given sound input, run until a signal stops them (with the arguments they would run with). */
const SERVES_UNTIL_STOPPED: Readonly<Record<string, readonly string[]>> = {
  serve: ['--listen', '127.0.0.1:0'],
  worker: [],
};

describe('every command fed garbage answers with a coded error, never a stack trace', () => {
  let p: Paths;
  beforeAll(() => {
    p = makePaths();
  });

  it('lists the commands it covers from main.ts', () => {
    expect(COMMAND_SUMMARIES.map((c) => c.name)).toContain('build');
    expect(COMMAND_SUMMARIES.length).toBeGreaterThan(10);
  });

  for (const { name } of COMMAND_SUMMARIES) {
    it(`kiln ${name}: garbage arguments, files, directories and missing paths`, async () => {
      const home = join(p.root, `home-${name}`);
      for (const argv of genericCases(name, p)) {
        expectHandled(await run(argv, p.root, home), `kiln ${argv.join(' ')}`);
      }
    });

    it(`kiln ${name}: in repositories with a garbage kiln.yaml, a garbage project, and with a home that is a file`, async () => {
      const home = join(p.root, `home-${name}`);
      const serving = SERVES_UNTIL_STOPPED[name];
      if (serving) {
        // It reads no kiln.yaml, and in a sound home it would serve (or wait for work) until stopped; a home that is
        // a file stops it.
        expectHandled(await run([name, ...serving], p.root, p.garbage), `kiln ${name} with KILN_HOME a file`);
        return;
      }
      for (const [kind, repo] of Object.entries(p.repos)) {
        expectHandled(await run([name], repo, home), `kiln ${name} with a kiln.yaml of ${kind}`);
      }
      expectHandled(await run([name], p.project, home), `kiln ${name} in a project of garbage files`);
      expectHandled(await run([name], p.dirs, home), `kiln ${name} in a project of directories`);
      expectHandled(await run([name], p.root, p.garbage), `kiln ${name} with KILN_HOME a file`);
    });
  }

  it('the subcommands and the files each command reads', async () => {
    const home = join(p.root, 'home-specific');
    for (const argv of specificCases(p)) {
      expectHandled(await run(argv, p.root, home), `kiln ${argv.join(' ')}`);
    }
  });
});
