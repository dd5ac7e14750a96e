// A job as the store keeps it (RFC 3339 times, JSON text, 0/1 flags) and back.
import type { Insertable } from 'kysely';
import type { JobRow, JobsTable } from '../store/index.js';
import type { Job, JobAttempt } from './job.js';

/** The row that stores `job`. */
export function jobToRow(job: Job): Insertable<JobsTable> {
  return {
    id: job.id,
    seq: job.seq,
    project: job.project,
    commit_sha: job.commit,
    branch: job.branch,
    priority: job.priority,
    labels: JSON.stringify(job.labels),
    payload: JSON.stringify(job.payload),
    force: job.force ? 1 : 0,
    supersedable: job.supersedable ? 1 : 0,
    max_attempts: job.maxAttempts,
    state: job.state,
    attempt: job.attempt,
    submitted_at: iso(job.submittedAt),
    available_at: iso(job.availableAt),
    worker_id: job.workerId,
    leased_at: job.leasedAt === null ? null : iso(job.leasedAt),
    lease_until: job.leaseUntil === null ? null : iso(job.leaseUntil),
    superseded_by: job.supersededBy,
    build_id: job.buildId,
    ended_at: job.endedAt === null ? null : iso(job.endedAt),
    attempts: JSON.stringify(job.attempts),
  };
}

/** The job a row stores (the store wrote the row, so its JSON is trusted). */
export function jobFromRow(row: JobRow): Job {
  return Object.freeze({
    id: row.id,
    seq: Number(row.seq),
    project: row.project,
    commit: row.commit_sha,
    branch: row.branch,
    priority: row.priority,
    labels: Object.freeze(JSON.parse(row.labels) as Record<string, string>),
    payload: Object.freeze(JSON.parse(row.payload) as Record<string, unknown>),
    force: row.force === 1,
    supersedable: row.supersedable === 1,
    maxAttempts: row.max_attempts,
    state: row.state,
    attempt: row.attempt,
    submittedAt: Date.parse(row.submitted_at),
    availableAt: Date.parse(row.available_at),
    workerId: row.worker_id,
    leasedAt: ms(row.leased_at),
    leaseUntil: ms(row.lease_until),
    supersededBy: row.superseded_by,
    buildId: row.build_id,
    endedAt: ms(row.ended_at),
    attempts: Object.freeze((JSON.parse(row.attempts) as JobAttempt[]).map((a) => Object.freeze(a))),
  });
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function ms(text: string | null): number | null {
  return text === null ? null : Date.parse(text);
}
