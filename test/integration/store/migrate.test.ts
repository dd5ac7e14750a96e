import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../../src/store/index.js';
import { migrationProvider } from '../../../src/store/migrations.js';
import { tempDir } from '../../helpers/tmp.js';
import { transpileSources } from '../../helpers/transpile.js';

const ALL = [
  '0001_initial',
  '0002_step_actions',
  '0003_build_fingerprint',
  '0004_vulnerabilities',
  '0005_promotions',
  '0006_publications',
  '0007_step_times',
  '0008_build_owner',
  '0009_api_tokens',
  '0010_jobs',
  '0011_webhook_deliveries',
  '0012_schedule_runs',
  '0013_notifications',
  '0014_build_worker',
  '0015_workers',
  '0016_build_logs',
  '0017_step_retries',
  '0018_notification_kind',
  '0019_promotion_announced',
  '0020_observability',
];

function inspect(file: string): { version: unknown; migrations: string[]; tables: string[] } {
  const db = new Database(file, { readonly: true });
  try {
    const names = (sql: string) => (db.prepare(sql).all() as { name: string }[]).map((r) => r.name);
    return {
      version: db.pragma('user_version', { simple: true }),
      migrations: names('select name from kysely_migration order by name'),
      tables: names("select name from sqlite_master where type = 'table' order by name"),
    };
  } finally {
    db.close();
  }
}

/** The real store code, transpiled for a child process that opens (and so migrates) a store. */
function buildStoreJs(dir: string): string {
  transpileSources(dir);
  const child = join(dir, 'open.mjs');
  writeFileSync(
    child,
    "const { openSqliteStore } = await import('./store/index.js');\n" +
      'const store = await openSqliteStore(process.argv[2]);\nawait store.close();\n',
  );
  return child;
}

function run(script: string, file: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [script, file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stderr }));
  });
}

describe('store migrations', () => {
  it('records the schema version, and an open of a current store leaves the Migrator alone', async () => {
    const file = join(tempDir(), 'store.db');
    await (await openSqliteStore(file)).close();
    expect(inspect(file)).toMatchObject({ version: ALL.length, migrations: ALL });
    // The Migrator would create its lock table again: an open that trusts user_version does not.
    const raw = new Database(file);
    raw.exec('drop table kysely_migration_lock');
    raw.close();
    await (await openSqliteStore(file)).close();
    expect(inspect(file).tables).not.toContain('kysely_migration_lock');
  });

  it('brings a store from an older Kiln (no user_version, fewer migrations) up to date', async () => {
    const file = join(tempDir(), 'store.db');
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(file) }) });
    const { error } = await new Migrator({ db, provider: migrationProvider }).migrateTo('0002_step_actions');
    await db.destroy();
    expect(error).toBeUndefined();
    expect(inspect(file)).toMatchObject({ version: 0, migrations: ALL.slice(0, 2) });
    await (await openSqliteStore(file)).close();
    expect(inspect(file)).toMatchObject({ version: ALL.length, migrations: ALL });
  });

  it('gives steps recorded before retries one attempt each, none for replayed or skipped ones, and no flakiness', async () => {
    const file = join(tempDir(), 'store.db');
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(file) }) });
    const { error } = await new Migrator({ db, provider: migrationProvider }).migrateTo('0014_build_worker');
    await db.destroy();
    expect(error).toBeUndefined();
    const raw = new Database(file);
    raw
      .prepare(
        "insert into builds (id, project, repo_url, commit_sha, subdir, dirty, status, builder_id, runner, started_at, finished_at, duration_ms) values ('b1', 'demo', 'file:///r', 'c', '', 0, 'succeeded', 'x', 'host', 't', 't', 1)",
      )
      .run();
    const step = raw.prepare(
      "insert into steps (build_id, name, status, exit_code, duration_ms, position) values ('b1', ?, ?, 0, 1, ?)",
    );
    for (const [i, status] of ['succeeded', 'cached', 'skipped', 'failed'].entries()) step.run(status, status, i);
    raw.close();
    await (await openSqliteStore(file)).close();
    const after = new Database(file, { readonly: true });
    expect(after.prepare('select name, attempts, flaky from steps order by position').all()).toEqual([
      { name: 'succeeded', attempts: 1, flaky: 0 },
      { name: 'cached', attempts: 0, flaky: 0 },
      { name: 'skipped', attempts: 0, flaky: 0 },
      { name: 'failed', attempts: 1, flaky: 0 },
    ]);
    expect(after.prepare('select flaky_steps from builds').all()).toEqual([{ flaky_steps: 0 }]);
    after.close();
  });

  it('sets the version of a migrated store that predates it without migrating again', async () => {
    const file = join(tempDir(), 'store.db');
    await (await openSqliteStore(file)).close();
    const raw = new Database(file);
    raw.pragma('user_version = 0');
    raw.close();
    await (await openSqliteStore(file)).close();
    expect(inspect(file)).toMatchObject({ version: ALL.length, migrations: ALL });
  });

  it('refuses a store a newer Kiln migrated further, changing nothing', async () => {
    const file = join(tempDir(), 'store.db');
    await (await openSqliteStore(file)).close();
    const raw = new Database(file);
    raw.prepare('insert into kysely_migration (name, timestamp) values (?, ?)').run('9999_future', '2030-01-01');
    raw.pragma(`user_version = ${ALL.length + 1}`);
    raw.close();
    await expect(openSqliteStore(file)).rejects.toMatchObject({
      code: 'KILN_STORE',
      message: expect.stringContaining('9999_future'),
    });
    expect(inspect(file)).toMatchObject({ version: ALL.length + 1, migrations: [...ALL, '9999_future'] });
  });

  it('lets processes that open a new store at the same time all succeed', async () => {
    const dir = tempDir();
    const script = buildStoreJs(join(dir, 'js'));
    for (let round = 0; round < 3; round++) {
      const file = join(dir, `store-${round}.db`);
      const results = await Promise.all(Array.from({ length: 6 }, () => run(script, file)));
      expect(results).toEqual(Array.from({ length: 6 }, () => ({ code: 0, stderr: '' })));
      expect(inspect(file)).toMatchObject({ version: ALL.length, migrations: ALL });
    }
  }, 30_000);
});
