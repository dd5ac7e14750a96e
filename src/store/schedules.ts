// Runs of the cron schedules of kiln-server.yaml in the store: a run is claimed with one conditional upsert before its
// build is submitted, so two passes (or two servers on one store) that see the same tick submit it once.
import type { Store } from './store.js';

/** A schedule's last run: the tick it fired for (or the time it was first seen), and what the submission gave. */
export interface ScheduleRun {
  readonly project: string;
  readonly key: string;
  readonly lastFireAt: string;
  readonly lastJobId: string | null;
  readonly lastError: string | null;
}

/** Every recorded schedule run. */
export async function scheduleRuns(store: Store): Promise<ScheduleRun[]> {
  const rows = await store.db
    .selectFrom('schedule_runs')
    .selectAll()
    .orderBy('project')
    .orderBy('schedule_key')
    .execute();
  return rows.map((r) => ({
    project: r.project,
    key: r.schedule_key,
    lastFireAt: r.last_fire_at,
    lastJobId: r.last_job_id,
    lastError: r.last_error,
  }));
}

/**
 * Records the schedule `(project, key)` as seen at `at` without firing it, unless it already has a row: the baseline
 * of a schedule first seen, so only its later ticks fire.
 */
export async function recordScheduleBaseline(store: Store, project: string, key: string, at: string): Promise<void> {
  await store.db
    .insertInto('schedule_runs')
    .values({ project, schedule_key: key, last_fire_at: at, last_job_id: null, last_error: null })
    .onConflict((oc) => oc.columns(['project', 'schedule_key']).doNothing())
    .execute();
}

/**
 * Claims the tick `fireAt` (ISO 8601 UTC) of the schedule `(project, key)`: true when this call moved its last run
 * forward to it (the caller submits the build), false when a run at or after that tick is already recorded.
 */
export async function claimScheduleRun(store: Store, project: string, key: string, fireAt: string): Promise<boolean> {
  const r = await store.db
    .insertInto('schedule_runs')
    .values({ project, schedule_key: key, last_fire_at: fireAt, last_job_id: null, last_error: null })
    .onConflict((oc) =>
      oc
        .columns(['project', 'schedule_key'])
        .doUpdateSet({ last_fire_at: fireAt, last_job_id: null, last_error: null })
        .where('schedule_runs.last_fire_at', '<', fireAt),
    )
    .executeTakeFirst();
  return (r.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

/** Writes what the submission of the claimed tick `fireAt` gave: its job, or why it failed. */
export async function recordScheduleOutcome(
  store: Store,
  project: string,
  key: string,
  fireAt: string,
  outcome: { readonly jobId: string } | { readonly error: string },
): Promise<void> {
  await store.db
    .updateTable('schedule_runs')
    .set('jobId' in outcome ? { last_job_id: outcome.jobId, last_error: null } : { last_error: outcome.error })
    .where('project', '=', project)
    .where('schedule_key', '=', key)
    .where('last_fire_at', '=', fireAt)
    .execute();
}
