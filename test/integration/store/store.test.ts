import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  getBuild,
  listBuilds,
  openSqliteStore,
  recordBuild,
  recordBuildEnd,
  recordBuildStart,
  settleAbandonedBuilds,
} from '../../../src/store/index.js';
import { type StoreDialectFactory, storeDialects } from '../../helpers/postgres.js';
import { buildRow } from '../../helpers/store.js';
import { tempDir } from '../../helpers/tmp.js';

function record(id: string, startedAt: string, stepNames = ['compile', 'test']) {
  return {
    build: buildRow(id, startedAt, 'demo', 1200),
    steps: stepNames.map((name, position) => ({
      build_id: id,
      name,
      status: 'succeeded' as const,
      exit_code: 0,
      duration_ms: 10,
      log_path: null,
      position,
    })),
    artifacts: [
      {
        build_id: id,
        name: 'demo',
        digest: `sha256:${'b'.repeat(64)}`,
        size: 10,
        path: '/x/demo.tgz',
        manifest_digest: `sha256:${'c'.repeat(64)}`,
      },
    ],
    evidence: [],
  };
}

describe('SQLite store', () => {
  it('runs WAL with synchronous=FULL and migrates once', async () => {
    const file = join(tempDir(), 'store.db');
    const store = await openSqliteStore(file);
    await store.close();
    const again = await openSqliteStore(file); // a second open finds the migrations applied
    await again.close();
    const db = new Database(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const migrations = db.prepare('select name from kysely_migration').all();
    expect(migrations).toEqual([
      { name: '0001_initial' },
      { name: '0002_step_actions' },
      { name: '0003_build_fingerprint' },
      { name: '0004_vulnerabilities' },
      { name: '0005_promotions' },
      { name: '0006_publications' },
      { name: '0007_step_times' },
      { name: '0008_build_owner' },
      { name: '0009_api_tokens' },
      { name: '0010_jobs' },
      { name: '0011_webhook_deliveries' },
      { name: '0012_schedule_runs' },
      { name: '0013_notifications' },
      { name: '0014_build_worker' },
      { name: '0015_workers' },
      { name: '0016_build_logs' },
      { name: '0017_step_retries' },
      { name: '0018_notification_kind' },
      { name: '0019_promotion_announced' },
      { name: '0020_observability' },
    ]);
    db.close();
    const check = await openSqliteStore(file);
    const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(check.db);
    expect(rows[0]?.synchronous).toBe(2); // FULL
    await check.close();
  });
});

describe.each(storeDialects())('the store on $name', (dialect: StoreDialectFactory) => {
  it('writes a build with all its rows, or nothing at all', async () => {
    const store = await dialect.fresh();
    await recordBuild(store, record('20240101T000000Z-aaaaaa', '2024-01-01T00:00:00.000Z'));
    // Two steps with the same name violate the primary key half way through the transaction.
    await expect(
      recordBuild(store, record('20240102T000000Z-bbbbbb', '2024-01-02T00:00:00.000Z', ['x', 'x'])),
    ).rejects.toThrow();
    const builds = await listBuilds(store, { limit: 10 });
    expect(builds.map((b) => b.id)).toEqual(['20240101T000000Z-aaaaaa']);
    expect(await getBuild(store, '20240102')).toBeUndefined();
    await store.close();
  });

  it('records a build of 6,000 steps (more bound values than one INSERT may carry)', async () => {
    const store = await dialect.fresh();
    const names = Array.from({ length: 6000 }, (_, i) => `step-${String(i).padStart(4, '0')}`);
    await recordBuild(store, record('20240101T000000Z-aaaaaa', '2024-01-01T00:00:00.000Z', names));
    const detail = await getBuild(store, '20240101T000000Z-aaaaaa');
    expect(detail?.steps.map((s) => s.name)).toEqual(names);
    await store.close();
  });

  it('lists newest first and finds a build by unique prefix, refusing an ambiguous one', async () => {
    const store = await dialect.fresh();
    await recordBuild(store, record('20240101T000000Z-aaaaaa', '2024-01-01T00:00:00.000Z'));
    await recordBuild(store, record('20240101T000001Z-bbbbbb', '2024-01-01T00:00:01.000Z'));
    expect((await listBuilds(store, { limit: 10 })).map((b) => b.id)).toEqual([
      '20240101T000001Z-bbbbbb',
      '20240101T000000Z-aaaaaa',
    ]);
    const detail = await getBuild(store, '20240101T000001');
    expect(detail?.steps.map((s) => s.name)).toEqual(['compile', 'test']);
    expect(detail?.artifacts[0]?.digest).toBe(`sha256:${'b'.repeat(64)}`);
    await expect(getBuild(store, '20240101')).rejects.toThrow(/ambiguous/);
    expect(await getBuild(store, '%')).toBeUndefined();
    await store.close();
  });

  it('records a build when it starts, then completes that row with the rest of the record', async () => {
    const store = await dialect.fresh();
    const id = '20260101T000000.000Z-00000000000000aa';
    const started = { ...buildRow(id, '2026-01-01T00:00:00.000Z', 'demo', 0), status: 'running' as const };
    await recordBuildStart(store, { ...started, owner: 'me' });
    expect((await getBuild(store, id))?.build).toMatchObject({ status: 'running', owner: 'me', duration_ms: 0 });
    await recordBuild(store, record(id, '2026-01-01T00:00:00.000Z'));
    const done = await getBuild(store, id);
    expect(done?.build).toMatchObject({ status: 'succeeded', duration_ms: 1200 });
    expect([done?.steps.length, done?.artifacts.length]).toEqual([2, 1]);
    expect(await listBuilds(store, { limit: 10 })).toHaveLength(1);
    // An ended build is never marked again.
    const end = { exit_code: 1, error: 'x', finished_at: '2026-01-01T00:00:09.000Z', duration_ms: 9 };
    expect(await recordBuildEnd(store, id, { status: 'failed', ...end })).toBe(false);
    expect((await getBuild(store, id))?.build.status).toBe('succeeded');
    await store.close();
  });

  it('marks failed the running builds whose owner is gone, and only those', async () => {
    const store = await dialect.fresh();
    const row = (n: string, owner: string | null) => ({
      ...buildRow(`20260101T000000.000Z-00000000000000${n}`, '2026-01-01T00:00:00.000Z', 'demo', 0),
      status: 'running' as const,
      owner,
    });
    for (const b of [row('01', 'dead'), row('02', 'alive'), row('03', null)]) await recordBuildStart(store, b);
    await recordBuild(store, record('20260101T000000.000Z-0000000000000004', '2026-01-01T00:00:00.000Z'));
    const at = new Date('2026-01-01T00:01:00.000Z');
    const settled = await settleAbandonedBuilds(store, (owner) => owner !== 'alive', { at, error: 'gone' });
    expect(settled).toEqual(['20260101T000000.000Z-0000000000000001']);
    const builds = await listBuilds(store, { limit: 10 });
    expect(builds.map((b) => [b.id.slice(-2), b.status, b.error, b.duration_ms]).sort()).toEqual([
      ['01', 'failed', 'gone', 60_000],
      ['02', 'running', null, 0],
      ['03', 'running', null, 0],
      ['04', 'succeeded', null, 1200],
    ]);
    await store.close();
  });
});

describe('SQLite store files', () => {
  it('refuses a file that is not a SQLite store with a clear error', async () => {
    const file = join(tempDir(), 'store.db');
    writeFileSync(file, 'this is not a database, it is a text file that happens to be long enough to be read');
    await expect(openSqliteStore(file)).rejects.toMatchObject({
      code: 'KILN_STORE',
      message: expect.stringContaining(file),
    });
  });
});
