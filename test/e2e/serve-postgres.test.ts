// `kiln serve --database postgres://…` as a real process over a throwaway PostgreSQL 15 cluster: tokens made by
// `kiln tokens --database` (or KILN_DATABASE) authenticate, a configured project is queued and built, and the job,
// the build and the tokens are rows of that database, not of KILN_HOME's SQLite store.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileCluster, rows } from '../helpers/postgres.js';
import { demoProject } from '../helpers/project.js';
import { kiln, makeRepo } from '../helpers/repo.js';
import { callApi as call, startServe, stopServers } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

afterEach(stopServers);
const cluster = fileCluster();

describe('kiln serve --database postgres://…', () => {
  it('keeps tokens, the queue and the recorded build in PostgreSQL, and builds a configured project', async () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const home = join(root, 'home');
    const commit = makeRepo(repo, demoProject());
    const plain = await (await cluster()).createDatabase();
    // The cluster trusts local connections: the password is never checked, but it must never be shown either.
    const secret = 'pw-never-shown-7f3a';
    const database = plain.replace('postgres://postgres@', `postgres://postgres:${secret}@`);
    const config = join(root, 'kiln-server.yaml');
    writeFileSync(config, `concurrency: 1\nprojects:\n  - name: demo\n    repository: file://${repo}\n`);

    const created = kiln(['tokens', 'create', '--scope', 'trigger', '--database', database], { cwd: root, home });
    expect([created.status, created.stderr]).toEqual([0, '']);
    const trigger = created.stdout.trim();
    const viaEnv = kiln(['tokens', 'create', '--scope', 'read'], { cwd: root, home, env: { KILN_DATABASE: database } });
    expect(viaEnv.status).toBe(0);
    const read = viaEnv.stdout.trim();
    // The home's own SQLite store knows neither token.
    expect(JSON.parse(kiln(['tokens', 'list', '--json'], { cwd: root, home }).stdout)).toEqual([]);

    const { url, child, output } = await startServe(home, ['--config', config, '--database', database]);
    const submitted = await call(`${url}/v1/builds`, trigger, { project: 'demo', ref: 'main' });
    expect(submitted.status).toBe(202);
    const id = submitted.json.id as string;
    let job = submitted.json;
    for (let i = 0; i < 600 && !['succeeded', 'failed', 'blocked', 'cancelled', 'lost'].includes(job.status); i++) {
      await new Promise((r) => setTimeout(r, 200));
      job = (await call(`${url}/v1/builds/${id}`, read)).json;
    }
    expect(job).toMatchObject({ id, status: 'succeeded', commit });
    expect(job.artifacts).toEqual([
      expect.objectContaining({ name: 'demo', digest: expect.stringMatching(/^sha256:/) }),
    ]);

    const jobs = await rows<{ id: string; state: string; build_id: string }>(
      plain,
      'select id, state, build_id from jobs',
    );
    expect(jobs).toEqual([{ id, state: 'succeeded', build_id: job.build.id }]);
    const builds = await rows<{ id: string; status: string; builder_id: string; cache_hits: number }>(
      plain,
      'select id, status, builder_id, cache_hits from builds',
    );
    expect(builds).toEqual([
      {
        id: job.build.id,
        status: 'succeeded',
        builder_id: 'https://kiln.dev/builders/control-plane/v1',
        cache_hits: expect.any(String), // int8, as a plain pg client reads it
      },
    ]);
    const artifacts = await rows<{ name: string; digest: string }>(plain, 'select name, digest from artifacts');
    expect(artifacts).toEqual([{ name: 'demo', digest: job.artifacts[0].digest }]);
    expect(await rows<{ scope: string }>(plain, 'select scope from api_tokens order by scope')).toEqual([
      { scope: 'read' },
      { scope: 'trigger' },
    ]);
    // Nothing of it went to KILN_HOME's SQLite store.
    expect(JSON.parse(kiln(['builds', '--json'], { cwd: root, home }).stdout)).toEqual([]);

    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output()).not.toContain(secret);
  });

  it('lets two servers share one database: every job ends once, and the project limit holds across both', async () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    makeRepo(repo, demoProject());
    const database = await (await cluster()).createDatabase();
    const config = join(root, 'kiln-server.yaml');
    // Two workers per server, but one build of the project at a time: across both servers.
    writeFileSync(
      config,
      `concurrency: 2\nprojects:\n  - name: demo\n    repository: file://${repo}\n    concurrency: 1\n`,
    );
    const homes = [join(root, 'home-a'), join(root, 'home-b')];
    const token = kiln(['tokens', 'create', '--scope', 'trigger', '--database', database], {
      cwd: root,
      home: homes[0] ?? '',
    }).stdout.trim();
    const servers = await Promise.all(
      homes.map((home) => startServe(home, ['--config', config, '--database', database])),
    );
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const server = servers[i % 2];
      const r = await call(`${server?.url}/v1/builds`, token, { project: 'demo', ref: 'main', force: true });
      expect(r.status).toBe(202);
      ids.push(r.json.id);
    }
    const terminal = ['succeeded', 'failed', 'blocked', 'cancelled', 'lost'];
    for (let i = 0; i < 900; i++) {
      const states = await rows<{ state: string }>(database, 'select state from jobs');
      if (states.length === 6 && states.every((s) => terminal.includes(s.state))) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const jobs = await rows<{ id: string; state: string; attempt: number; build_id: string }>(
      database,
      'select id, state, attempt, build_id from jobs order by seq',
    );
    expect(jobs.map((j) => [j.id, j.state, j.attempt])).toEqual(ids.map((id) => [id, 'succeeded', 1]));
    const builds = await rows<{ id: string; started_at: string; finished_at: string }>(
      database,
      "select id, started_at, finished_at from builds where status = 'succeeded' order by started_at",
    );
    expect(builds.map((b) => b.id).sort()).toEqual(jobs.map((j) => j.build_id).sort()); // one build per job
    const overlaps = builds.filter((b, i) => i > 0 && b.started_at < (builds[i - 1]?.finished_at ?? ''));
    expect(overlaps).toEqual([]); // never two builds of the project at once, whichever server ran them
  }, 240_000);

  it("takes the database from kiln-server.yaml's database: when --database is not given", async () => {
    const root = tempDir();
    const home = join(root, 'home');
    const database = await (await cluster()).createDatabase();
    const config = join(root, 'kiln-server.yaml');
    writeFileSync(config, `database: ${database}\nprojects:\n  - name: demo\n    repository: file://${root}/repo\n`);
    const token = kiln(['tokens', 'create', '--scope', 'read'], {
      cwd: root,
      home,
      env: { KILN_DATABASE: database },
    }).stdout.trim();
    const { url } = await startServe(home, ['--config', config]);
    expect((await call(`${url}/v1/queue`, token)).status).toBe(200); // the token is in the file's database
    const other = await (await cluster()).createDatabase();
    const { url: overridden } = await startServe(join(root, 'home-b'), ['--config', config, '--database', other]);
    expect((await fetch(`${overridden}/v1/queue`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(401);
  });

  it('refuses a --database that is no PostgreSQL URL, and names an unreachable server without its password', () => {
    const home = tempDir();
    const bad = kiln(['serve', '--database', 'mysql://x@h/db'], { cwd: home, home });
    expect([bad.status, bad.stderr]).toEqual([2, expect.stringContaining('--database must be a postgres://')]);
    const down = 'postgres://kiln:hunter2-secret@127.0.0.1:1/kiln';
    const refused = kiln(['tokens', 'list', '--database', down], { cwd: home, home });
    expect(refused.status).toBe(4); // KILN_STORE
    expect(refused.stderr).toContain('cannot connect to the PostgreSQL store at postgres://kiln:***@127.0.0.1:1/kiln');
    expect(refused.stderr).not.toContain('hunter2');
  });
});
