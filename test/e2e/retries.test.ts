// kiln.yaml `retries` through the CLI, in the bubblewrap sandbox: a test step that checks a service on loopback (a
// server this test runs) fails while the service answers 503 and passes once it answers 200. That is how a real
// flaky test fails, and here it fails exactly once, every time: the sandbox gives each attempt a fresh directory and
// a fresh /tmp, so the service is the one thing the attempts share.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_KILN_YAML, demoProject } from '../helpers/project.js';
import { kilnAsync, makeRepo } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

let server: Server;
let port = 0;
/** Requests per path: `/flaky/*` answers 503 to the first and 200 after; `/down/*` always 503. */
const requests = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    const n = (requests.get(path) ?? 0) + 1;
    requests.set(path, n);
    const up = path.startsWith('/flaky/') && n > 1;
    res.writeHead(up ? 200 : 503).end(up ? 'ok' : 'warming up');
  });
  server.listen(0, '127.0.0.1');
  await new Promise((done) => server.once('listening', done));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

/** A project whose test step asks the service at `path`, with `retries: 2`. */
function project(path: string) {
  const root = tempDir();
  const repo = join(root, 'repo');
  const check = `node -e "fetch('http://127.0.0.1:${port}${path}').then(async (r) => { console.log(r.status, await r.text()); process.exit(r.ok ? 0 : 1); })"`;
  const run = `if test -e leftover; then echo leaked; exit 3; fi; touch leftover; ${check}`;
  const yaml = DEMO_KILN_YAML.replace(
    'run: test -f out/lib/main.js && echo tests ok',
    `run: ${JSON.stringify(run)}\n    network: true\n    retries: 2`,
  );
  makeRepo(repo, demoProject({ 'kiln.yaml': yaml }));
  return { repo, home: join(root, 'home') };
}

const events = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { kind: string; step?: string; [k: string]: unknown });

describe('kiln build with retries', () => {
  it('records a step that failed, then passed as flaky, in the build, kiln show and kiln builds', async () => {
    const { repo, home } = project('/flaky/a');
    const built = await kilnAsync(['build', '--json'], { cwd: repo, home, env: { KILN_LOG: 'json' } });
    expect(built.status, built.stderr).toBe(0);
    expect(requests.get('/flaky/a')).toBe(2);
    const result = JSON.parse(built.stdout);
    expect(result).toMatchObject({ status: 'succeeded', flakySteps: 1 });
    expect(
      result.steps.map((s: { name: string; attempts: number; flaky: boolean }) => [s.name, s.attempts, s.flaky]),
    ).toEqual([
      ['compile', 1, false],
      ['test', 2, true],
    ]);
    const retry = events(built.stderr).filter((e) => e.kind === 'step-retry');
    expect(retry).toMatchObject([
      { step: 'test', attempt: 1, maxAttempts: 3, exitCode: 1, logTail: ['503 warming up'] },
    ]);

    const shown = JSON.parse((await kilnAsync(['show', result.buildId, '--json'], { cwd: repo, home })).stdout);
    expect(shown.build).toMatchObject({ status: 'succeeded', flaky_steps: 1 });
    expect(
      shown.steps.map((s: { name: string; attempts: number; flaky: boolean }) => [s.name, s.attempts, s.flaky]),
    ).toEqual([
      ['compile', 1, false],
      ['test', 2, true],
    ]);
    const text = (await kilnAsync(['show', result.buildId], { cwd: repo, home })).stdout;
    expect(text).toContain(`build     ${result.buildId}  succeeded, 1 flaky step`);
    expect(text).toContain('(runner: bubblewrap)');
    expect(text).toMatch(/\ntest +succeeded \(flaky: 2 attempts\) +0 /);
    expect(text).toMatch(/\ncompile +succeeded +0 /);
    const listed = (await kilnAsync(['builds'], { cwd: repo, home })).stdout;
    expect(listed).toContain('succeeded, 1 flaky step');
    const rows = JSON.parse((await kilnAsync(['builds', '--json'], { cwd: repo, home })).stdout);
    expect(rows).toMatchObject([{ id: result.buildId, flaky_steps: 1 }]);
  });

  it('fails the build as today when every attempt fails', async () => {
    const { repo, home } = project('/down/b');
    const built = await kilnAsync(['build'], { cwd: repo, home });
    expect(built.status).toBe(1);
    expect(requests.get('/down/b')).toBe(3);
    expect(built.stderr).toContain('KILN_STEP_FAILED');
    expect(built.stderr).toContain('step test failed with exit code 1');
    expect(built.stderr).toContain('kiln: step test failed (exit 1) on attempt 2 of 3; running it again');
    const listed = (await kilnAsync(['builds'], { cwd: repo, home })).stdout;
    expect(listed).toMatch(/ failed +\d/);
    expect(listed).not.toContain('flaky');
    const [row] = JSON.parse((await kilnAsync(['builds', '--json'], { cwd: repo, home })).stdout);
    const text = (await kilnAsync(['show', row.id], { cwd: repo, home })).stdout;
    expect(text).toMatch(/\ntest +failed \(3 attempts\) +1 /);
  });
});
