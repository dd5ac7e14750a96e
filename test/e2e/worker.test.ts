// `kiln worker` as real processes beside a `kiln serve --workers 0` sharing its store: they lease only the jobs their
// labels allow, report themselves and their health, and a worker killed with kill -9 mid-build loses its job to
// another once the lease expires, the lost attempt recorded as an infrastructure failure.
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_KILN_YAML, demoProject } from '../helpers/project.js';
import { kiln, makeRepo } from '../helpers/repo.js';
import { type Body, callApi as call, startServe, startWorker, stopServers } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

afterEach(stopServers);

async function until<T>(what: string, probe: () => Promise<T | undefined>, seconds = 120): Promise<T> {
  for (let i = 0; i < seconds * 5; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A served project (file:// repository) whose builds need the worker label arch=x64; the server runs no worker. */
async function farm(kilnYaml = DEMO_KILN_YAML) {
  const root = tempDir();
  const repo = join(root, 'repo');
  const home = join(root, 'home');
  const commit = makeRepo(repo, demoProject({ 'kiln.yaml': kilnYaml }));
  const config = join(root, 'kiln-server.yaml');
  writeFileSync(
    config,
    [
      'concurrency: 4',
      'leaseSeconds: 3',
      'projects:',
      '  - name: demo',
      `    repository: file://${repo}`,
      '    labels: { arch: x64 }',
      '',
    ].join('\n'),
  );
  const token = kiln(['tokens', 'create', '--scope', 'trigger'], { cwd: root, home }).stdout.trim();
  const served = await startServe(home, ['--config', config, '--workers', '0']);
  return { root, repo, home, commit, token, ...served };
}

describe('kiln worker', () => {
  it('builds only the jobs its labels allow, and reports itself and its health to the server', async () => {
    const f = await farm();
    expect(f.output()).toContain('on 0 in-process worker(s)');
    // Without a worker, the job waits.
    const { json: submitted } = await call(`${f.url}/v1/builds`, f.token, { project: 'demo', ref: 'main' });
    const arm = await startWorker(f.home, ['--labels', 'arch=arm64']);
    const x64 = await startWorker(f.home, ['--labels', 'arch=x64,big']);
    expect(x64.output()).toContain('labelled arch=x64,big');
    const done = await until('the job to end', async () => {
      const { json } = await call(`${f.url}/v1/builds/${submitted.id}`, f.token);
      return ['queued', 'running'].includes(json.status) ? undefined : json;
    });
    expect(done).toMatchObject({ status: 'succeeded', commit: f.commit });
    const { json } = await call(`${f.url}/v1/workers`, f.token);
    const workers = json.workers as Body[];
    expect(workers).toHaveLength(2);
    const builder = workers.find((w) => w.labels.arch === 'x64');
    const idle = workers.find((w) => w.labels.arch === 'arm64');
    expect(done.attempts.map((a: Body) => a.worker)).toEqual([builder.id]);
    expect(done.build.worker).toEqual({ id: builder.id, host: hostname(), labels: { arch: 'x64', big: 'true' } });
    expect(idle).toMatchObject({ state: 'idle', job: null, host: hostname() });
    expect(builder).toMatchObject({ state: 'idle', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(builder.heartbeatAgeMs).toBeLessThan(15_000);
    expect(builder.health.workFreeBytes).toBeGreaterThan(0);
    expect(builder.health.cacheFreeBytes).toBeGreaterThan(0);
    expect(builder.health.memTotalBytes).toBeGreaterThan(builder.health.memFreeBytes);
    expect(builder.health.cacheDir).toBe(join(f.home, 'cache'));
    expect(arm.output()).not.toContain(submitted.id);

    // SIGTERM drains: the worker says it stopped, and exits 0.
    const exited = new Promise<number | null>((resolve) => x64.child.on('exit', (code) => resolve(code)));
    x64.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const after = (await call(`${f.url}/v1/workers`, f.token)).json.workers as Body[];
    expect(after.find((w) => w.id === builder.id)?.state).toBe('stopped');
  });

  it('loses a job to another worker when killed with kill -9 mid-build; the attempt counts as lost', async () => {
    const yaml = DEMO_KILN_YAML.replace('mkdir -p out/lib &&', 'sleep 4 && mkdir -p out/lib &&');
    const f = await farm(yaml);
    const first = await startWorker(f.home, ['--labels', 'arch=x64']);
    const { json: submitted } = await call(`${f.url}/v1/builds`, f.token, { project: 'demo', ref: 'main' });
    const running = await until('the job to run', async () => {
      const { json } = await call(`${f.url}/v1/builds/${submitted.id}`, f.token);
      return json.status === 'running' ? json : undefined;
    });
    await new Promise((r) => setTimeout(r, 1_500)); // into the sleeping step
    first.child.kill('SIGKILL');
    await startWorker(f.home, ['--labels', 'arch=x64']);
    const done = await until('the job to end', async () => {
      const { json } = await call(`${f.url}/v1/builds/${submitted.id}`, f.token);
      return ['queued', 'running'].includes(json.status) ? undefined : json;
    });
    expect(done.status).toBe('succeeded');
    expect(done.attempts.map((a: Body) => [a.attempt, a.worker === running.worker, a.outcome])).toEqual([
      [1, true, 'lost'],
      [2, false, 'succeeded'],
    ]);
    // The killed worker's half-done build is on record as failed, never as succeeded; the job's build is the second.
    const builds = JSON.parse(kiln(['builds', '--json'], { cwd: f.root, home: f.home }).stdout) as Body[];
    expect(builds.filter((b) => b.status === 'succeeded').map((b) => b.id)).toEqual([done.build.id]);
  });

  it('refuses malformed labels and concurrency with a usage error', () => {
    const home = tempDir();
    const bad = kiln(['worker', '--labels', 'arch=x64,=oops'], { cwd: home, home });
    expect([bad.status, bad.stderr]).toEqual([2, expect.stringContaining('--labels: "=oops" is not KEY or KEY=VALUE')]);
    const zero = kiln(['worker', '--concurrency', '0'], { cwd: home, home });
    expect([zero.status, zero.stderr]).toEqual([2, expect.stringContaining('--concurrency must be a whole number')]);
  });
});
