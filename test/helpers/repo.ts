import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Kiln Test',
  GIT_AUTHOR_EMAIL: 'test@kiln.invalid',
  GIT_COMMITTER_NAME: 'Kiln Test',
  GIT_COMMITTER_EMAIL: 'test@kiln.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
};

/** Runs git in `cwd` with a fixed identity (and a fixed date when committing). */
export function git(cwd: string, args: string[], date = '2024-05-01T12:00:00Z'): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...GIT_ENV, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
  });
}

/** Creates a git repository in `dir` holding `files` in one commit; returns the commit. */
export function makeRepo(dir: string, files: Record<string, string>, date?: string): string {
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q', '-b', 'main']);
  writeFiles(dir, files);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'initial'], date);
  return git(dir, ['rev-parse', 'HEAD']).trim();
}

/** Writes files (creating directories). */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

/** The CLI entry point the tests run (from dist/). */
export const KILN = resolve(import.meta.dirname, '../../bin/kiln.js');

/** Result of running the real CLI as a child process. */
export interface KilnRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `kiln args` in `cwd` with KILN_HOME set, optionally under another umask and a faked clock (libfaketime),
 * and with extra open descriptors (`fds`: descriptor number in kiln → descriptor of this process).
 */
export function kiln(
  args: string[],
  opts: {
    cwd: string;
    home: string;
    env?: Record<string, string>;
    umask?: string;
    fakeTime?: string;
    fds?: Record<number, number>;
  },
): KilnRun {
  const env = { ...process.env, KILN_HOME: opts.home, KILN_SIGNING_KEY: '', ...opts.env };
  let argv = [process.execPath, KILN, ...args];
  if (opts.fakeTime) argv = ['faketime', opts.fakeTime, ...argv];
  if (opts.umask) argv = ['/bin/sh', '-c', `umask ${opts.umask} && exec "$0" "$@"`, ...argv];
  const [cmd = '', ...rest] = argv;
  const stdio: Array<'pipe' | 'ignore' | number> = ['pipe', 'pipe', 'pipe'];
  for (const [at, fd] of Object.entries(opts.fds ?? {})) {
    while (stdio.length <= Number(at)) stdio.push('ignore');
    stdio[Number(at)] = fd;
  }
  const r = spawnSync(cmd, rest, { cwd: opts.cwd, env, encoding: 'utf8', stdio });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** `kiln args` as `kiln` runs it, without blocking this process (a server the command talks to may run in it). */
export function kilnAsync(
  args: string[],
  opts: { cwd: string; home: string; env?: Record<string, string> },
): Promise<KilnRun> {
  const child = spawn(process.execPath, [KILN, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, KILN_HOME: opts.home, KILN_SIGNING_KEY: '', KILN_TOKEN: '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += String(d);
  });
  child.stderr.on('data', (d) => {
    stderr += String(d);
  });
  return new Promise((done) => child.on('close', (status, signal) => done({ status, signal, stdout, stderr })));
}
