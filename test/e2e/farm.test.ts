// The farm end to end: one `kiln serve` on PostgreSQL running no build itself, three `kiln worker` processes (each
// with a home of its own, as on three machines), 30 builds of one project over three priority classes, and one worker
// killed with kill -9 in the middle of a build. Every build ends exactly once and succeeds once, the higher classes
// start first, the killed attempt is recorded as lost (an infrastructure failure) and built again elsewhere, and the
// artifact's digest is the same whichever worker built it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileCluster } from '../helpers/postgres.js';
import { DEMO_KILN_YAML, demoProject } from '../helpers/project.js';
import { git, kiln, makeRepo } from '../helpers/repo.js';
import { type Body, callApi, type StartedWorker, startServe, startWorker, stopServers } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

afterEach(stopServers);
const cluster = fileCluster();

const TERMINAL = ['succeeded', 'failed', 'blocked', 'cancelled', 'lost'];
const CLASSES = ['critical', 'high', 'normal', 'low'];

const call = async (url: string, token: string, body?: unknown): Promise<Body> =>
  (await callApi(url, token, body)).json;

describe('the farm on PostgreSQL', () => {
  it('builds 30 jobs on three workers by priority, and survives a worker killed mid-build', async () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    // main and hot/fix are one commit; feature/x another, whose first step sleeps 4 s: its first build on each worker
    // (a worker's cache has not seen that step) is where the kill lands.
    const commit = makeRepo(repo, demoProject());
    git(repo, ['branch', 'hot/fix']);
    git(repo, ['checkout', '-q', '-b', 'feature/x']);
    writeFileSync(
      join(repo, 'kiln.yaml'),
      DEMO_KILN_YAML.replace('mkdir -p out/lib &&', 'sleep 4 && mkdir -p out/lib &&'),
    );
    git(repo, ['commit', '-qam', 'a slow first step']);
    const feature = git(repo, ['rev-parse', 'HEAD']).trim();
    git(repo, ['checkout', '-q', 'main']);
    const database = await (await cluster()).createDatabase();
    const env = { KILN_DATABASE: database };
    const config = join(root, 'kiln-server.yaml');
    writeFileSync(
      config,
      [
        'concurrency: 3',
        'leaseSeconds: 4',
        'projects:',
        '  - name: demo',
        `    repository: file://${repo}`,
        '    branches: [main, hot/*, feature/*]',
        '    concurrency: 3',
        '    supersede: false',
        '    priority:',
        '      - { branches: [hot/*], class: critical }',
        '      - { branches: [main], class: high }',
        '',
      ].join('\n'),
    );
    const home = join(root, 'server-home');
    const token = kiln(['tokens', 'create', '--scope', 'trigger'], { cwd: root, home, env }).stdout.trim();
    const server = await startServe(home, ['--config', config, '--workers', '0'], env);

    // 30 builds of the same commit (forced: each one is built), queued before any worker runs, classes interleaved.
    const refs = ['feature/x', 'main', 'hot/fix'];
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const submitted = await call(`${server.url}/v1/builds`, token, {
        project: 'demo',
        ref: refs[i % 3],
        force: true,
      });
      ids.push(submitted.id);
    }
    const workers: StartedWorker[] = [];
    for (let i = 0; i < 3; i++) workers.push(await startWorker(join(root, `worker-home-${i}`), [], env));
    const idOf = (w: StartedWorker) => /building on 1 worker\(s\) \((w-[0-9a-f-]+)\)/.exec(w.output())?.[1];

    // Kill the worker building the first feature build (a normal one: it starts after the 20 above it, so every
    // worker has built some by then), a moment into its build.
    const victimJob = ids[0] as string;
    let victim: StartedWorker | undefined;
    for (let i = 0; i < 600 && !victim; i++) {
      const job = await call(`${server.url}/v1/builds/${victimJob}`, token);
      if (job.status === 'running' && job.worker) victim = workers.find((w) => idOf(w) === job.worker);
      else await new Promise((r) => setTimeout(r, 100));
    }
    if (!victim) throw new Error(`job ${victimJob} never ran:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 1_000));
    const killedId = idOf(victim);
    victim.child.kill('SIGKILL');

    let jobs: Body[] = [];
    for (let i = 0; i < 900; i++) {
      jobs = await Promise.all(ids.map((id) => call(`${server.url}/v1/builds/${id}`, token)));
      if (jobs.every((j) => TERMINAL.includes(j.status))) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    // Every build ended, and succeeded exactly once: none lost, none run twice to success.
    expect(jobs.map((j) => j.status)).toEqual(ids.map(() => 'succeeded'));
    for (const j of jobs) expect(j.attempts.filter((a: Body) => a.outcome === 'succeeded')).toHaveLength(1);
    // The killed attempt is on record as lost (an infrastructure failure), and the job was built by another worker.
    const killed = jobs.find((j) => j.id === victimJob);
    expect(killed.attempts.map((a: Body) => [a.worker === killedId, a.outcome])).toEqual([
      [true, 'lost'],
      [false, 'succeeded'],
    ]);
    expect(jobs.flatMap((j) => j.attempts).filter((a: Body) => a.outcome !== 'succeeded')).toHaveLength(1);
    // Higher classes started first: in the order first attempts started, the classes never go up.
    const firsts = jobs
      .map((j) => ({ rank: CLASSES.indexOf(j.priority), start: Date.parse(j.attempts[0].startedAt) }))
      .sort((a, b) => a.start - b.start);
    const ranks = firsts.map((f) => f.rank);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(new Set(jobs.map((j) => j.priority))).toEqual(new Set(['critical', 'high', 'normal']));
    // One commit gives one artifact digest whichever worker built it; all three built some.
    expect(new Set(jobs.map((j) => j.commit))).toEqual(new Set([commit, feature]));
    for (const c of [commit, feature]) {
      const digests = new Set(jobs.filter((j) => j.commit === c).map((j) => j.artifacts[0]?.digest));
      expect([...digests]).toEqual([expect.stringMatching(/^sha256:[0-9a-f]{64}$/)]);
    }
    const builders = new Set(jobs.map((j) => j.attempts.at(-1).worker));
    expect(builders.size).toBe(3);
    // The killed worker's half-done build is never a success in the shared store.
    const builds = JSON.parse(kiln(['builds', '--json', '--limit', '100'], { cwd: root, home, env }).stdout) as Body[];
    expect(builds.filter((b) => b.status === 'succeeded')).toHaveLength(30);
    expect(new Set(builds.filter((b) => b.status === 'succeeded').map((b) => b.id))).toEqual(
      new Set(jobs.map((j) => j.build.id)),
    );
  });
});
