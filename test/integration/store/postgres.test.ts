import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../../src/core/errors.js';
import { storeQueue } from '../../../src/farm/store-queue.js';
import { processGone, processIdentity } from '../../../src/platform/processes.js';
import {
  beginOsvImport,
  openStore,
  recordBuild,
  recordBuildStart,
  redactDatabaseUrl,
  settleAbandonedBuilds,
} from '../../../src/store/index.js';
import { JOBS_LOCK_KEY } from '../../../src/store/jobs.js';
import { fileCluster, rows } from '../../helpers/postgres.js';
import { buildRow } from '../../helpers/store.js';
import { tempDir } from '../../helpers/tmp.js';
import { transpileSources } from '../../helpers/transpile.js';

const cluster = fileCluster();

async function tables(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query<{ name: string }>('select name from kysely_migration order by name');
    return r.rows.map((row) => row.name);
  } finally {
    await client.end();
  }
}

describe('the store on PostgreSQL', () => {
  it('migrates a new database once, with the same migrations as SQLite, and reads int8 as numbers', async () => {
    const url = await (await cluster()).createDatabase();
    const store = await openStore(url);
    expect(store.dialect).toBe('postgres');
    await (await openStore(url)).close(); // a second open finds the migrations applied
    const migrations = await tables(url);
    expect(migrations[0]).toBe('0001_initial');
    expect(migrations).toContain('0014_build_worker');
    await recordBuild(store, {
      build: { ...buildRow('b1', '2026-12-07T12:00:00.000Z'), cache_hits: 3, bytes_restored: 2 ** 40 },
      steps: [],
      artifacts: [
        { build_id: 'b1', name: 'a', digest: 'sha256:1', size: 2 ** 33, path: '/x', manifest_digest: 'sha256:2' },
      ],
      evidence: [],
    });
    const row = await store.db.selectFrom('builds').selectAll().where('id', '=', 'b1').executeTakeFirstOrThrow();
    expect(row.bytes_restored).toBe(2 ** 40);
    expect(row.cache_hits).toBe(3);
    const { count } = await store.db
      .selectFrom('artifacts')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow();
    expect(count).toBe(1);
    // osv_imports.seq has no database default on PostgreSQL: Kiln numbers imports itself.
    expect([await beginOsvImport(store, 'a', 'now'), await beginOsvImport(store, 'b', 'now')]).toEqual([1, 2]);
    await store.close();
  });

  it('lets processes that open a new database at the same time all succeed (the Migrator locks)', async () => {
    const url = await (await cluster()).createDatabase();
    const dir = tempDir();
    transpileSources(join(dir, 'js'));
    const script = join(dir, 'js', 'open.mjs');
    writeFileSync(
      script,
      "const { openStore } = await import('./store/index.js');\n" +
        'const store = await openStore(process.argv[2]);\nawait store.close();\n',
    );
    const results = await Promise.all(Array.from({ length: 5 }, () => run(script, url)));
    expect(results).toEqual(Array.from({ length: 5 }, () => ({ code: 0, stderr: '' })));
    expect((await tables(url)).length).toBeGreaterThanOrEqual(14);
  }, 30_000);

  it('reports an unreachable server as KILN_STORE, with the password masked everywhere', async () => {
    const port = await closedPort();
    const url = `postgres://kiln:s3cr%40t-pw@127.0.0.1:${port}/kiln`;
    const err = await openStore(url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    const e = err as KilnError;
    expect(e.code).toBe('KILN_STORE');
    expect(e.message).toContain(`cannot connect to the PostgreSQL store at postgres://kiln:***@127.0.0.1:${port}/kiln`);
    expect(e.hint).toMatch(/running and reachable/);
    const everything = `${e.message} ${e.hint} ${e.stack} ${String(e.cause)}`;
    expect(everything).not.toContain('s3cr');
    expect(redactDatabaseUrl('postgres://u@h:5432/d')).toBe('postgres://u@h:5432/d');
    expect(redactDatabaseUrl('postgresql://u:p@h/d?sslmode=require')).toBe('postgresql://u:***@h/d?sslmode=require');
  });

  it('refuses a database that orders text by a locale, not by byte as SQLite does', async () => {
    const c = await cluster();
    const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${c.port}/postgres` });
    await admin.connect();
    await admin.query("create database kiln_icu template template0 locale_provider icu icu_locale 'en-US'");
    await admin.end();
    const url = `postgres://postgres@127.0.0.1:${c.port}/kiln_icu`;
    // What Kiln would get there: 'B' after 'a' (SQLite, and PostgreSQL's C collation: 'B' first).
    const [first] = await rows<{ ordered: string }>(
      url,
      "select string_agg(x, ',' order by x) as ordered from (values ('a'), ('B')) v(x)",
    );
    expect(first?.ordered).toBe('a,B');
    await expect(openStore(url)).rejects.toMatchObject({
      code: 'KILN_STORE',
      message: expect.stringContaining('not by byte (C)'),
      hint: expect.stringContaining("LC_COLLATE 'C'"),
    });
    expect(await rows(url, "select 1 from pg_tables where tablename = 'builds'")).toEqual([]); // nothing migrated
  });

  it('serialises queue operations on one advisory lock: a lease waits while another holder has it', async () => {
    const url = await (await cluster()).createDatabase();
    const store = await openStore(url);
    const queue = storeQueue(store, { global: 10, perProject: 10 });
    const { id } = await queue.submit({ project: 'web', commit: 'c' });
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    await holder.query('begin');
    await holder.query(`select pg_advisory_xact_lock(${JOBS_LOCK_KEY})`);
    let leased = false;
    const lease = queue.lease('w1', {}, 60_000).then((l) => {
      leased = true;
      return l;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(leased).toBe(false); // waiting for the lock
    await holder.query('commit');
    await holder.end();
    expect(await lease).toMatchObject({ kind: 'leased', job: { id } });
    await store.close();
  });

  it('settles only the abandoned builds of this host: another host on the shared database is never judged', async () => {
    const url = await (await cluster()).createDatabase();
    const store = await openStore(url);
    const dead = await deadProcessIdentity();
    const [host, ns] = processIdentity().split('/');
    const rows = {
      local: dead,
      other: `another-host/${ns}/${dead.split('/')[2]}/1`, // same pid namespace id and pid, another machine
      alive: processIdentity(),
    };
    for (const [id, owner] of Object.entries(rows)) {
      await recordBuildStart(store, { ...buildRow(id, '2026-12-07T12:00:00.000Z'), status: 'running', owner });
    }
    expect(host).not.toBe('another-host');
    expect(processGone(rows.other)).toBe(false);
    const settled = await settleAbandonedBuilds(store, processGone, { at: new Date(), error: 'gone' });
    expect(settled).toEqual(['local']);
    const statuses = await store.db.selectFrom('builds').select(['id', 'status']).orderBy('id').execute();
    expect(statuses).toEqual([
      { id: 'alive', status: 'running' },
      { id: 'local', status: 'failed' },
      { id: 'other', status: 'running' },
    ]);
    await store.close();
  });

  it('runs SQL that the store needs on PostgreSQL only where it must (no pragma)', async () => {
    const store = await openStore(await (await cluster()).createDatabase());
    // recordBuildStart on SQLite checkpoints the WAL with a pragma: on PostgreSQL that step is skipped, not an error.
    await recordBuildStart(store, { ...buildRow('b', '2026-12-07T12:00:00.000Z'), status: 'running' });
    const r = await sql<{ one: number }>`select 1 as one`.execute(store.db);
    expect(r.rows).toEqual([{ one: 1 }]);
    await store.close();
  });
});

function run(script: string, arg: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [script, arg], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stderr }));
  });
}

/** A port nothing listens on (bound, then closed). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The identity of a process of this host that has exited. */
async function deadProcessIdentity(): Promise<string> {
  const child = spawn('sleep', ['5']);
  await new Promise((r) => child.once('spawn', r));
  const identity = processIdentity(child.pid);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('close', r));
  return identity;
}
