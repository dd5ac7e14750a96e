// Queries of the build queue's `jobs` table, and the write transaction each queue operation runs in.
import { type Insertable, type Kysely, sql } from 'kysely';
import { KilnError } from '../core/errors.js';
import type { JobRow, JobsTable, KilnDatabase } from './schema.js';
import type { Store } from './store.js';

/** A handle inside a job transaction: queries run on the one connection that holds the write lock. */
export type JobsTx = Kysely<KilnDatabase>;

/**
 * The key of the PostgreSQL advisory lock every job transaction takes first: any fixed 64-bit number no other
 * application on the database uses ("kiln" "jobs" in ASCII).
 */
export const JOBS_LOCK_KEY = 0x6b696c6e_6a6f6273n;

/**
 * Runs `work` in one write transaction that first takes the lock all queue operations share, so what it reads cannot
 * change before it writes: two processes on one store never decide over the same rows at once. On SQLite that is the
 * write lock (`BEGIN IMMEDIATE`; another writer is waited for, the store's busy_timeout); on PostgreSQL, a transaction
 * that first takes the advisory lock JOBS_LOCK_KEY (released when it ends), so queue operations of every replica and
 * worker run one at a time exactly as on SQLite. `work` failing rolls everything back.
 */
export async function inJobsTransaction<T>(store: Store, work: (tx: JobsTx) => Promise<T>): Promise<T> {
  if (store.dialect === 'postgres') {
    return store.db.transaction().execute(async (tx) => {
      await sql`select pg_advisory_xact_lock(${sql.raw(JOBS_LOCK_KEY.toString())})`.execute(tx);
      return work(tx);
    });
  }
  return store.db.connection().execute(async (conn) => {
    try {
      await sql`begin immediate`.execute(conn);
    } catch (cause) {
      throw new KilnError('KILN_STORE', `cannot lock the store for the build queue: ${String(cause)}`, {
        cause,
        hint: 'another process holds the store write lock for too long; check for a stuck kiln process',
      });
    }
    try {
      const result = await work(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => undefined); // already rolled back by SQLite on some errors
      throw err;
    }
  });
}

/** The queued and running jobs, in submission order. */
export async function activeJobRows(db: JobsTx): Promise<JobRow[]> {
  return db.selectFrom('jobs').selectAll().where('state', 'in', ['queued', 'running']).orderBy('seq').execute();
}

/** One job by id. */
export async function jobRow(db: JobsTx, id: string): Promise<JobRow | undefined> {
  return db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The seq the next submitted job gets (one more than any so far). */
export async function nextJobSeq(db: JobsTx): Promise<number> {
  const row = await db
    .selectFrom('jobs')
    .select((eb) => eb.fn.max('seq').as('max'))
    .executeTakeFirst();
  return Number(row?.max ?? 0) + 1;
}

/** Adds a job. */
export async function insertJobRow(db: JobsTx, row: Insertable<JobsTable>): Promise<void> {
  await db.insertInto('jobs').values(row).execute();
}

/** Writes a job's changed state (everything but its identity and submission). */
export async function updateJobRow(db: JobsTx, row: Insertable<JobsTable>): Promise<void> {
  await db
    .updateTable('jobs')
    .set({
      state: row.state,
      attempt: row.attempt,
      available_at: row.available_at,
      worker_id: row.worker_id,
      leased_at: row.leased_at,
      lease_until: row.lease_until,
      superseded_by: row.superseded_by,
      build_id: row.build_id,
      ended_at: row.ended_at,
      attempts: row.attempts,
    })
    .where('id', '=', row.id)
    .execute();
}

/** Which jobs `listJobRows` returns: of a project, in some states, at most `limit`. */
export interface JobFilter {
  readonly project?: string;
  readonly states?: readonly JobsTable['state'][];
  readonly limit?: number;
}

/** Jobs matching `filter`, newest submission first. */
export async function listJobRows(db: JobsTx, filter: JobFilter): Promise<JobRow[]> {
  let q = db.selectFrom('jobs').selectAll();
  if (filter.project !== undefined) q = q.where('project', '=', filter.project);
  if (filter.states !== undefined) {
    if (filter.states.length === 0) return [];
    q = q.where('state', 'in', [...filter.states]);
  }
  return q
    .orderBy('seq', 'desc')
    .limit(filter.limit ?? 100)
    .execute();
}
