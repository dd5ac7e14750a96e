// `kiln serve` as a real process: it says where it listens once it accepts requests, serves the store of its
// KILN_HOME to token holders, and stops cleanly on SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { demoProject } from '../helpers/project.js';
import { KILN, kiln, makeRepo } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) child.kill('SIGKILL');
});

/** Starts `kiln serve` and resolves with its base URL once it printed the listening line. */
function serve(home: string, args: string[] = []): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const env = { ...process.env, KILN_HOME: home, KILN_SIGNING_KEY: '' };
  const child = spawn(process.execPath, [KILN, 'serve', '--listen', '127.0.0.1:0', ...args], { env });
  started.push(child);
  let out = '';
  child.stdout?.on('data', (c) => {
    out += c;
  });
  child.stderr?.on('data', (c) => {
    out += c;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in 20 s:\n${out}`)), 20_000);
    child.stdout?.on('data', () => {
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ url, child, output: () => out });
      }
    });
    child.on('exit', (code) => reject(new Error(`kiln serve exited ${code} before listening:\n${out}`)));
  });
}

describe('kiln serve', () => {
  it('serves the builds of its home to a token holder, and stops on SIGTERM with exit 0', async () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const home = join(root, 'home');
    makeRepo(repo, demoProject());
    expect(kiln(['build', '--runner', 'host'], { cwd: repo, home }).status).toBe(0);
    const token = kiln(['tokens', 'create', '--scope', 'read'], { cwd: root, home }).stdout.trim();
    const { url, child, output } = await serve(home);
    expect(output()).toMatch(/^kiln: listening on http:\/\/127\.0\.0\.1:\d+$/m);
    const health = await fetch(`${url}/healthz`);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    expect((await fetch(`${url}/v1/builds`)).status).toBe(401);
    const listed = await fetch(`${url}/v1/builds`, { headers: { Authorization: `Bearer ${token}` } });
    const { builds } = (await listed.json()) as { builds: { project: string; status: string }[] };
    expect(builds.map((b) => [b.project, b.status])).toEqual([['demo', 'succeeded']]);
    // A token created while the server runs works at once: the store is the one source of truth.
    const later = kiln(['tokens', 'create', '--scope', 'admin'], { cwd: root, home }).stdout.trim();
    expect((await fetch(`${url}/v1/builds`, { headers: { Authorization: `Bearer ${later}` } })).status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output()).not.toContain(token);
  });

  it('refuses a malformed --listen and a port in use, with the code and a hint', async () => {
    const home = tempDir();
    const bad = kiln(['serve', '--listen', 'localhost'], { cwd: home, home });
    expect([bad.status, bad.stderr]).toEqual([2, expect.stringContaining('--listen must be HOST:PORT')]);
    const { url } = await serve(home);
    const port = new URL(url).port;
    const busy = kiln(['serve', '--listen', `127.0.0.1:${port}`], { cwd: home, home });
    expect([busy.status, busy.stderr]).toEqual([
      2,
      expect.stringContaining(`cannot listen on 127.0.0.1:${port}: EADDRINUSE`),
    ]);
  });
});
