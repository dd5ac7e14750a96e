// The notification outbox in a real store (SQLite and PostgreSQL): senders of several replicas that read the same due
// row claim its attempt once between them; a delivered or moved-on row cannot be claimed.
import { describe, expect, it } from 'vitest';
import {
  claimNotification,
  dueNotifications,
  inJobsTransaction,
  insertNotificationRows,
} from '../../../src/store/index.js';
import { type StoreDialectFactory, storeDialects } from '../../helpers/postgres.js';

const T0 = '2026-12-07T12:00:00.000Z';
const LATER = '2026-12-07T12:01:00.000Z';

const row = (id: string) => ({
  id,
  event_id: `e-${id}`,
  project: 'web',
  target: 0,
  url: 'http://127.0.0.1:9/hook',
  type: 'dev.kiln.build.queued',
  job_id: 'j1',
  body: '{}',
  status: 'pending' as const,
  attempts: 0,
  next_attempt_at: T0,
  last_attempt_at: null,
  last_error: null,
  last_status: null,
  created_at: T0,
  delivered_at: null,
});

describe.each(storeDialects())('notification claims on $name', (dialect: StoreDialectFactory) => {
  it('gives each due attempt to one of the store handles that read it', async () => {
    const location = await dialect.location();
    const handles = await Promise.all([0, 1, 2].map(() => dialect.open(location)));
    const [first] = handles;
    if (!first) throw new Error('no store');
    const ids = Array.from({ length: 20 }, (_, i) => `n${i}`);
    await inJobsTransaction(first, (db) => insertNotificationRows(db, ids.map(row)));
    // Every handle reads the same due rows, as each replica's sender would, then all claim them at once.
    const seen = await Promise.all(handles.map((h) => dueNotifications(h, T0, 100)));
    expect(seen.map((rows) => rows.length)).toEqual([20, 20, 20]);
    const claims = await Promise.all(
      handles.flatMap((h, i) =>
        (seen[i] ?? []).map(async (r) => ((await claimNotification(h, r.id, r.next_attempt_at, LATER)) ? r.id : null)),
      ),
    );
    const won = claims.filter((id): id is string => id !== null);
    expect(won.sort()).toEqual([...ids].sort()); // each once
    expect(await dueNotifications(first, T0, 100)).toEqual([]); // claimed: not due until LATER
    expect((await dueNotifications(first, LATER, 100)).length).toBe(20); // a sender that died: due again then
    expect(await claimNotification(first, 'n0', T0, LATER)).toBe(false); // read before the claim moved it
    await first.db.updateTable('notifications').set({ status: 'delivered' }).where('id', '=', 'n1').execute();
    expect(await claimNotification(first, 'n1', LATER, LATER)).toBe(false);
    for (const h of handles) await h.close();
  });
});
