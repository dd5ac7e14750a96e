// The log lines of jobs' attempts: appended in batches by the worker that runs an attempt, read in order after a
// cursor by the API that streams them. Portable SQL only: the store may be SQLite or PostgreSQL.
import type { Insertable } from 'kysely';
import type { BuildLogRow, BuildLogsTable } from './schema.js';
import type { Store } from './store.js';

/** A place in a job's log: the line `seq` of attempt `attempt` (lines after it are read). */
export interface LogCursor {
  readonly attempt: number;
  readonly seq: number;
}

/** Which lines `readLogLines` returns. */
export interface LogQuery {
  /** Only lines after this one; from the start when absent. */
  readonly after?: LogCursor | undefined;
  /** Only this step's lines. */
  readonly step?: string | undefined;
  /** At most this many (default 500). */
  readonly limit?: number | undefined;
}

/** Appends lines (one batch, one statement); a line already stored (same job, attempt and seq) fails the batch. */
export async function appendLogLines(store: Store, lines: readonly Insertable<BuildLogsTable>[]): Promise<void> {
  if (lines.length === 0) return;
  await store.db
    .insertInto('build_logs')
    .values([...lines])
    .execute();
}

/** A job's lines in order (attempt, then seq), after the cursor, of one step if asked. */
export async function readLogLines(store: Store, jobId: string, query: LogQuery = {}): Promise<BuildLogRow[]> {
  let q = store.db.selectFrom('build_logs').selectAll().where('job_id', '=', jobId);
  const { after } = query;
  if (after) {
    q = q.where((eb) =>
      eb.or([
        eb('attempt', '>', after.attempt),
        eb.and([eb('attempt', '=', after.attempt), eb('seq', '>', after.seq)]),
      ]),
    );
  }
  if (query.step !== undefined) q = q.where('step', '=', query.step);
  const rows = await q
    .orderBy('attempt')
    .orderBy('seq')
    .limit(query.limit ?? 500)
    .execute();
  // PostgreSQL may hand integers back as strings when they were declared wider; numbers either way.
  return rows.map((r) => ({ ...r, attempt: Number(r.attempt), seq: Number(r.seq) }));
}
