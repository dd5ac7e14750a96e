// The server's history pruned by age in a real store (SQLite and PostgreSQL): what ended before the cut goes (jobs
// with their log lines, finished notifications, webhook deliveries, silent workers); what is newer, and every queued
// or running job and pending notification however old, stays.
import { beforeEach, describe, expect, it } from 'vitest';
import { pruneOldHistory } from '../../../src/farm/history.js';
import { pruneHistory, type Store } from '../../../src/store/index.js';
import { type StoreDialectFactory, storeDialects } from '../../helpers/postgres.js';

const DIALECTS = storeDialects();
let current: StoreDialectFactory;

const OLD = '2026-09-01T00:00:00.000Z';
const NEW = '2026-12-01T00:00:00.000Z';
const CUT = '2026-10-01T00:00:00.000Z';

async function job(store: Store, id: string, seq: number, state: string, at: string, ended: boolean) {
  await store.db
    .insertInto('jobs')
    .values({
      id,
      seq,
      project: 'web',
      commit_sha: 'c'.repeat(40),
      branch: 'main',
      priority: 'high',
      labels: '{}',
      payload: '{}',
      force: 0,
      supersedable: 0,
      max_attempts: 3,
      state,
      attempt: 1,
      submitted_at: at,
      available_at: at,
      worker_id: null,
      leased_at: null,
      lease_until: null,
      superseded_by: null,
      build_id: null,
      ended_at: ended ? at : null,
      attempts: '[]',
    } as never)
    .execute();
  await store.db
    .insertInto('build_logs')
    .values([1, 2].map((seq) => ({ job_id: id, attempt: 1, seq, step: null, stream: 'kiln' as const, text: 'x', at })))
    .execute();
}

async function notification(store: Store, id: string, status: string, at: string) {
  await store.db
    .insertInto('notifications')
    .values({
      id,
      event_id: id,
      project: 'web',
      target: 0,
      url: 'http://127.0.0.1:1/hook',
      type: 'dev.kiln.build.succeeded',
      job_id: 'j',
      body: '{}',
      status,
      attempts: 1,
      next_attempt_at: at,
      last_attempt_at: at,
      last_error: null,
      last_status: null,
      created_at: at,
      delivered_at: null,
    } as never)
    .execute();
}

describe.each(DIALECTS)('history pruning on $name', (dialect: StoreDialectFactory) => {
  beforeEach(() => {
    current = dialect;
  });

  it('deletes what ended before the cut, and keeps what is newer, queued, running or pending', async () => {
    const store = await current.fresh();
    try {
      await job(store, 'old-done', 1, 'succeeded', OLD, true);
      await job(store, 'old-lost', 2, 'lost', OLD, true);
      await job(store, 'old-queued', 3, 'queued', OLD, false);
      await job(store, 'old-running', 4, 'running', OLD, false);
      await job(store, 'new-done', 5, 'failed', NEW, true);
      await notification(store, 'n-old-delivered', 'delivered', OLD);
      await notification(store, 'n-old-failed', 'failed', OLD);
      await notification(store, 'n-old-pending', 'pending', OLD);
      await notification(store, 'n-new-delivered', 'delivered', NEW);
      await store.db
        .insertInto('webhook_deliveries')
        .values([
          { source: 'github', delivery_id: 'd-old', received_at: OLD, builds: '[]' },
          { source: 'github', delivery_id: 'd-new', received_at: NEW, builds: '[]' },
        ])
        .execute();
      const worker = (id: string, at: string) => ({
        id,
        host: 'h',
        labels: '{}',
        kiln_version: 't',
        started_at: at,
        heartbeat_at: at,
        state: 'idle',
        job_id: null,
        health: '{}',
      });
      await store.db
        .insertInto('workers')
        .values([worker('w-old', OLD), worker('w-new', NEW)])
        .execute();

      expect(await pruneHistory(store, CUT)).toEqual({
        jobs: 2,
        logLines: 4,
        notifications: 2,
        webhookDeliveries: 1,
        workers: 1,
      });
      const ids = async (table: 'jobs' | 'notifications' | 'workers') =>
        (await store.db.selectFrom(table).select('id').orderBy('id').execute()).map((r) => r.id);
      expect(await ids('jobs')).toEqual(['new-done', 'old-queued', 'old-running']);
      const logs = await store.db.selectFrom('build_logs').select('job_id').distinct().orderBy('job_id').execute();
      expect(logs.map((r) => r.job_id)).toEqual(['new-done', 'old-queued', 'old-running']);
      expect(await ids('notifications')).toEqual(['n-new-delivered', 'n-old-pending']);
      expect(await ids('workers')).toEqual(['w-new']);
      const deliveries = await store.db.selectFrom('webhook_deliveries').select('delivery_id').execute();
      expect(deliveries.map((r) => r.delivery_id)).toEqual(['d-new']);

      // The server's pruning: historyDays back from now, said in its log only when something went.
      const said: string[] = [];
      const now = new Date('2026-12-04T00:00:00.000Z');
      await pruneOldHistory(store, { historyMs: 2 * 86_400_000 }, (m) => said.push(m), now);
      expect(said).toEqual([
        'history older than 2 days pruned: 1 ended jobs, 2 log lines, 1 notifications, 1 webhook deliveries, 1 workers',
      ]);
      await pruneOldHistory(store, { historyMs: 2 * 86_400_000 }, (m) => said.push(m), now);
      expect(said).toHaveLength(1);
      expect(await ids('jobs')).toEqual(['old-queued', 'old-running']);
    } finally {
      await store.close();
    }
  });
});
