// `kiln serve` as a real process: it says where it listens once it accepts requests, serves the store of its
// KILN_HOME to token holders, and stops cleanly on SIGTERM.
import { createHmac } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_KILN_YAML, demoProject } from '../helpers/project.js';
import { git, kiln, kilnAsync, makeRepo, writeFiles } from '../helpers/repo.js';
import { type Body, callApi as call, startServe, stopServers } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

afterEach(stopServers);

/** Starts `kiln serve` and resolves with its base URL once it printed the listening line. */
const serve = (home: string, args: string[] = []) => startServe(home, args);

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
    // A build of the local CLI names its builder and Kiln's version, and no worker.
    expect(builds[0]).toMatchObject({
      builderId: 'https://kiln.dev/builders/local-cli/v1',
      worker: null,
      kilnVersion: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
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

/** Polls a job until it ends. */
async function ended(url: string, token: string, id: string): Promise<Body> {
  for (let i = 0; i < 600; i++) {
    const { json } = await call(`${url}/v1/builds/${id}`, token);
    if (!['queued', 'running'].includes(json.status)) return json;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`job ${id} did not end in 120 s`);
}

describe('kiln serve --config: builds the configured projects', () => {
  it('queues a submitted ref, builds its exact commit on a worker, and answers with the artifacts', async () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const home = join(root, 'home');
    const first = makeRepo(repo, demoProject());
    const config = join(root, 'kiln-server.yaml');
    writeFileSync(config, `concurrency: 2\nprojects:\n  - name: demo\n    repository: file://${repo}\n`);
    const trigger = kiln(['tokens', 'create', '--scope', 'trigger'], { cwd: root, home }).stdout.trim();
    const read = kiln(['tokens', 'create', '--scope', 'read'], { cwd: root, home }).stdout.trim();
    const { url, child, output } = await serve(home, ['--config', config]);

    // The same commit submitted twice while the first is active is one job.
    const a = await call(`${url}/v1/builds`, trigger, { project: 'demo', ref: 'main' });
    const b = await call(`${url}/v1/builds`, trigger, { project: 'demo', ref: first });
    expect(a.status).toBe(202);
    expect(a.json).toMatchObject({ deduplicated: false, superseded: [] });
    expect(b.json).toMatchObject({ id: a.json.id, deduplicated: true });
    const workers = await call(`${url}/v1/workers`, read);
    expect(workers.json.workers).toHaveLength(2);

    const done = await ended(url, read, a.json.id);
    expect(done).toMatchObject({ id: a.json.id, project: 'demo', status: 'succeeded', commit: first, branch: 'main' });
    expect(done.priority).toBe('high'); // main, by the default priority rules
    expect(done.build).toMatchObject({
      status: 'succeeded',
      commit: first,
      repository: `file://${repo}`,
      branch: 'main', // the job's branch, though the worker builds the exact commit
    });
    expect(done.artifacts).toEqual([
      expect.objectContaining({ name: 'demo', digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) }),
    ]);
    // The build names the control-plane builder and the worker that ran it, on this host.
    const workerIds = workers.json.workers.map((w: { id: string }) => w.id);
    expect(done.build).toMatchObject({
      builderId: 'https://kiln.dev/builders/control-plane/v1',
      worker: { id: expect.any(String), host: hostname(), labels: {} },
      kilnVersion: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
    expect(workerIds).toContain(done.build.worker.id);
    // The recorded build is the CLI's too.
    const listed = JSON.parse(kiln(['builds', '--json'], { cwd: root, home }).stdout);
    expect(listed.map((r: { id: string }) => r.id)).toEqual([done.build.id]);
    expect(listed[0]).toMatchObject({
      builder_id: 'https://kiln.dev/builders/control-plane/v1',
      worker_id: done.build.worker.id,
      worker_host: hostname(),
      worker_labels: '{}',
      kiln_version: done.build.kilnVersion,
    });
    // Its artifact verifies as Kiln's; required to be the local CLI's, it is refused, with the builder it names.
    expect(kiln(['show', done.build.id], { cwd: root, home }).stdout).toContain(
      `builder   https://kiln.dev/builders/control-plane/v1 (runner: `,
    );
    expect(kiln(['show', done.build.id], { cwd: root, home }).stdout).toContain(
      `worker    ${done.build.worker.id} on ${hostname()}\n`,
    );
    const shown = JSON.parse(kiln(['show', '--json', done.build.id], { cwd: root, home }).stdout);
    const artifact = shown.artifacts[0].path;
    const provenance = JSON.parse(
      Buffer.from(
        JSON.parse(readFileSync(`${artifact}.sigstore.json`, 'utf8')).dsseEnvelope.payload,
        'base64',
      ).toString(),
    ).predicate;
    expect(provenance.runDetails.builder.id).toBe('https://kiln.dev/builders/control-plane/v1');
    expect(provenance.buildDefinition.internalParameters.worker).toEqual(done.build.worker);
    const pub = join(home, 'keys', 'default.pub');
    expect(kiln(['verify', artifact, '--key', pub], { cwd: root, home }).status).toBe(0);
    const local = kiln(['verify', artifact, '--key', pub, '--builder-id', 'https://kiln.dev/builders/local-cli/v1'], {
      cwd: root,
      home,
    });
    expect(local.status).toBe(3);
    expect(local.stdout).toContain(
      '✗ builder-id: built by another builder: expected https://kiln.dev/builders/local-cli/v1, got https://kiln.dev/builders/control-plane/v1',
    );

    // A new commit on main is a new job; a ref or project that does not exist is refused, and nothing is queued.
    writeFiles(repo, { 'src/util.js': 'export const twice = (x) => x + x;\n' });
    git(repo, ['commit', '-qam', 'change'], '2024-05-02T00:00:00Z');
    const c = await call(`${url}/v1/builds`, trigger, { project: 'demo', ref: 'main' });
    expect(c.json.id).not.toBe(a.json.id);
    const second = await ended(url, read, c.json.id);
    expect(second.status).toBe('succeeded');
    expect(second.artifacts[0].digest).not.toBe(done.artifacts[0].digest);
    const unknown = await call(`${url}/v1/builds`, trigger, { project: 'nope', ref: 'main' });
    expect([unknown.status, unknown.json.error.code]).toEqual([404, 'KILN_NOT_FOUND']);
    const badRef = await call(`${url}/v1/builds`, trigger, { project: 'demo', ref: 'no-such-branch' });
    expect([badRef.status, badRef.json.error.code]).toEqual([422, 'KILN_SOURCE_GIT']);
    const forbidden = await call(`${url}/v1/builds`, read, { project: 'demo', ref: 'main' });
    expect([forbidden.status, forbidden.json.error.code]).toEqual([403, 'KILN_FORBIDDEN']);
    const queue = await call(`${url}/v1/queue`, read);
    expect(queue.json).toEqual({
      classes: ['critical', 'high', 'normal', 'low'].map((priority) => ({ priority, depth: 0, oldestWaitMs: 0 })),
      running: 0,
    });

    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output()).toContain('building 1 project(s) on 2 in-process worker(s)');
  });
});

describe('kiln serve --config: cancelling', () => {
  it('stops a running build at once when its job is cancelled, and records the attempt', async () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const home = join(root, 'home');
    const yaml = DEMO_KILN_YAML.replace('mkdir -p out/lib &&', 'sleep 60 && mkdir -p out/lib &&');
    makeRepo(repo, demoProject({ 'kiln.yaml': yaml }));
    const config = join(root, 'kiln-server.yaml');
    writeFileSync(config, `projects:\n  - name: demo\n    repository: file://${repo}\n`);
    const token = kiln(['tokens', 'create', '--scope', 'trigger'], { cwd: root, home }).stdout.trim();
    const { url, output } = await serve(home, ['--config', config]);
    const { json: submitted } = await call(`${url}/v1/builds`, token, { project: 'demo', ref: 'main' });
    const building = async () =>
      (await call(`${url}/v1/workers`, token)).json.workers.some((w: { job: string | null }) => w.job === submitted.id);
    for (let i = 0; i < 100 && !(await building()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await building()).toBe(true);
    await new Promise((r) => setTimeout(r, 1500)); // into the sleeping step
    const started = Date.now();
    const cancel = await call(`${url}/v1/builds/${submitted.id}/cancel`, token, {});
    expect(cancel.json).toEqual({ id: submitted.id, cancelled: true });
    expect((await call(`${url}/v1/builds/${submitted.id}`, token)).json.status).toBe('cancelled');
    for (let i = 0; i < 150 && (await building()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await building()).toBe(false);
    expect(Date.now() - started).toBeLessThan(30_000); // the 60 s step was stopped, not waited for
    const [recorded] = JSON.parse(kiln(['builds', '--json'], { cwd: root, home }).stdout);
    expect(recorded).toMatchObject({ status: 'failed', error: expect.stringContaining('was interrupted') });
    expect(output()).toContain(`job ${submitted.id}`);
    const again = await call(`${url}/v1/builds/${submitted.id}/cancel`, token, {});
    expect(again.json).toEqual({ id: submitted.id, cancelled: false });
  });
});

describe('kiln serve --config: notifications', () => {
  it('notifies a receiver of the build, and stops at once though another receiver never answers', async () => {
    const received: { headers: Record<string, unknown>; body: string }[] = [];
    const hanging: ServerResponse[] = [];
    const listen = async (answer: boolean) => {
      const server = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => {
          body += c;
        });
        req.on('end', () => {
          if (!answer) {
            hanging.push(res);
            return;
          }
          received.push({ headers: req.headers, body });
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` };
    };
    const good = await listen(true);
    const stuck = await listen(false);
    try {
      const root = tempDir();
      const repo = join(root, 'repo');
      const home = join(root, 'home');
      const commit = makeRepo(repo, demoProject());
      const config = join(root, 'kiln-server.yaml');
      writeFileSync(join(root, 'notify-secret'), 'a plain secret\n');
      writeFileSync(
        config,
        `projects:\n  - name: demo\n    repository: file://${repo}\n    notify:\n` +
          `      - { url: "${good.url}", secret: { file: notify-secret }, events: [succeeded] }\n` +
          `      - { url: "${stuck.url}", secret: { file: notify-secret }, events: [queued, started, succeeded] }\n`,
      );
      const trigger = kiln(['tokens', 'create', '--scope', 'trigger'], { cwd: root, home }).stdout.trim();
      const read = kiln(['tokens', 'create', '--scope', 'read'], { cwd: root, home }).stdout.trim();
      const { url, child } = await serve(home, ['--config', config]);
      const a = await call(`${url}/v1/builds`, trigger, { project: 'demo', ref: 'main' });
      const done = await ended(url, read, a.json.id);
      expect(done.status).toBe('succeeded');
      expect(hanging.length).toBeGreaterThan(0); // the stuck receiver holds a notification, unanswered

      let deliveries: { type: string; url: string; status: string; attempts: number }[] = [];
      for (let i = 0; i < 200 && !deliveries.some((d) => d.status === 'delivered'); i++) {
        await new Promise((r) => setTimeout(r, 50));
        deliveries = (await call(`${url}/v1/deliveries`, read)).json.deliveries;
      }
      expect(deliveries.filter((d) => d.status === 'delivered')).toEqual([
        expect.objectContaining({ type: 'dev.kiln.build.succeeded', url: good.url, attempts: 1 }),
      ]);
      expect(deliveries.filter((d) => d.url === stuck.url).map((d) => d.status)).toEqual([
        'pending',
        'pending',
        'pending',
      ]);
      expect(received).toHaveLength(1);
      const event = JSON.parse(received[0]?.body ?? '{}');
      expect(event).toMatchObject({
        specversion: '1.0',
        type: 'dev.kiln.build.succeeded',
        source: expect.stringMatching(/^kiln:\/\/.+\/projects\/demo$/),
        data: { jobId: a.json.id, commit, status: 'succeeded', buildId: done.build.id },
      });
      expect(event.data.artifacts).toEqual([{ name: 'demo', digest: done.artifacts[0].digest }]);
      // A notify secret that is not whsec_ signs with its UTF-8 bytes (the file's trailing newline is not part of it).
      const h = received[0]?.headers as Record<string, string>;
      const signed = `${h['webhook-id']}.${h['webhook-timestamp']}.${received[0]?.body}`;
      const mac = createHmac('sha256', Buffer.from('a plain secret', 'utf8')).update(signed).digest('base64');
      expect(h['webhook-signature']).toBe(`v1,${mac}`);

      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const t0 = Date.now();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5_000); // the notification timeout is 10 s: stop did not wait for it
    } finally {
      for (const s of [good.server, stuck.server]) {
        s.closeAllConnections();
        s.close();
      }
    }
  });
});

describe('kiln submit', () => {
  it('queues a build on a server and follows it to the end, with the build’s exit status', async () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const home = join(root, 'home');
    makeRepo(repo, demoProject());
    const config = join(root, 'kiln-server.yaml');
    writeFileSync(config, `projects:\n  - name: demo\n    repository: file://${repo}\n`);
    const token = kiln(['tokens', 'create', '--scope', 'trigger'], { cwd: root, home }).stdout.trim();
    const { url } = await serve(home, ['--config', config]);
    const client = (args: string[], env: Record<string, string> = { KILN_TOKEN: token }) =>
      kilnAsync(['submit', ...args, '--server', url], { cwd: root, home: join(root, 'client-home'), env });
    const followed = await client(['demo', '--ref', 'main', '--follow']);
    expect(followed.stderr).toMatch(/kiln: job \S+: (queued|running)\n[\s\S]*kiln: job \S+: succeeded\n/);
    expect(followed.stdout).toMatch(/^build \S+ succeeded\n {2}demo {2}sha256:[0-9a-f]{64}\n$/);
    expect(followed.status).toBe(0);
    const unknown = await client(['nope']);
    expect([unknown.status, unknown.stderr]).toEqual([2, expect.stringContaining('KILN_NOT_FOUND')]);
    const anonymous = await client(['demo'], {});
    expect([anonymous.status, anonymous.stderr]).toEqual([2, expect.stringContaining('KILN_TOKEN is not set')]);
    const forged = await client(['demo'], { KILN_TOKEN: 'kiln_forged' });
    expect([forged.status, forged.stderr]).toEqual([2, expect.stringContaining('KILN_UNAUTHENTICATED')]);
    const down = await kilnAsync(['submit', 'demo', '--server', 'http://127.0.0.1:9'], {
      cwd: root,
      home: join(root, 'client-home'),
      env: { KILN_TOKEN: token },
    });
    expect([down.status, down.stderr]).toEqual([4, expect.stringContaining('cannot reach the Kiln server')]);
  });
});
