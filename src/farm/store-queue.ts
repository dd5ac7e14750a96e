// The build queue in the Kiln store (SQLite or PostgreSQL): jobs in its `jobs` table, each operation one write
// transaction that reads the active jobs, asks policy.ts, and writes what it decided. The transaction takes one lock
// first (SQLite's write lock, or a PostgreSQL advisory lock: store/jobs.ts), so two processes (or two handles, or two
// replicas on one database) dispatching at once never lease the same job.
import { randomUUID } from 'node:crypto';
import { KilnError } from '../core/errors.js';
import {
  activeJobRows,
  inJobsTransaction,
  insertJobRow,
  type JobsTx,
  jobRow,
  listJobRows,
  nextJobSeq,
  type Store,
  updateJobRow,
} from '../store/index.js';
import { DEFAULT_CLASSES, isTerminal, type Job, type JobSubmission, type Labels, type WorkerOutcome } from './job.js';
import { jobFromRow, jobToRow } from './job-row.js';
import {
  admit,
  afterAttempt,
  cancelled,
  expiredLeases,
  leased,
  pickNext,
  type QueueRules,
  submissionProblems,
} from './policy.js';
import type { BuildQueue, JobListFilter, Lease, Reaped, Submitted } from './queue.js';
import { queueStats } from './stats.js';

const WORKER_OUTCOMES: readonly WorkerOutcome[] = ['succeeded', 'failed', 'blocked', 'infra'];

/** The queue's rules (classes default to critical, high, normal, low) and its effects. */
export interface StoreQueueOptions {
  readonly classes?: readonly string[];
  readonly global: number;
  readonly perProject: number;
  readonly projects?: Readonly<Record<string, number>>;
  readonly now?: () => Date;
  readonly newId?: () => string;
  /**
   * Told of every job whose state a transaction changed (submitted, leased, ended, requeued, cancelled, lost), inside
   * that transaction (`db` is its connection): what it writes commits with the change (the notification outbox).
   */
  readonly onChange?: JobChangeHook;
}

/** See StoreQueueOptions.onChange; `at` is the queue clock's time of the change (ms). */
export type JobChangeHook = (db: JobsTx, job: Job, at: number) => Promise<void>;

/** The build queue over an open store. */
export function storeQueue(store: Store, options: StoreQueueOptions): BuildQueue {
  const rules = queueRules(options);
  const clock = options.now ?? (() => new Date());
  const newId = options.newId ?? (() => randomUUID());
  const now = () => clock().getTime();
  const tx = <T>(work: (db: JobsTx) => Promise<T>) => inJobsTransaction(store, work);
  const onChange: JobChangeHook = options.onChange ?? (async () => {});
  /** Writes a job's new state, and tells onChange when the state is not the one it had. */
  const put = async (db: JobsTx, job: Job, before: Job['state'] | undefined, at: number) => {
    await updateJobRow(db, jobToRow(job));
    if (job.state !== before) await onChange(db, job, at);
  };

  return {
    async submit(submission: JobSubmission): Promise<Submitted> {
      const problems = submissionProblems(submission, rules.classes);
      if (problems.length > 0) {
        throw new KilnError('KILN_USAGE', `job of project ${String(submission.project)}: ${problems.join('; ')}`, {
          hint: `give a project, a commit, one of the classes (${rules.classes.join(', ')}) and string labels`,
        });
      }
      return tx(async (db) => {
        const state = { jobs: (await activeJobRows(db)).map(jobFromRow) };
        const seq = await nextJobSeq(db);
        const at = now();
        const admission = admit(state, { ...submission, id: newId(), seq }, rules, at);
        if (admission.kind === 'duplicate') return { id: admission.of, deduplicated: true, superseded: [] };
        await insertJobRow(db, jobToRow(admission.job));
        await onChange(db, admission.job, at);
        for (const job of admission.cancel) await put(db, job, 'queued', at);
        return { id: admission.job.id, deduplicated: false, superseded: admission.cancel.map((j) => j.id) };
      });
    },

    async lease(workerId: string, labels: Labels, leaseMs: number): Promise<Lease> {
      checkLeaseMs(leaseMs);
      return tx(async (db) => {
        const at = now();
        const jobs = await reapIn(db, (await activeJobRows(db)).map(jobFromRow), at, onChange);
        const next = pickNext({ jobs: jobs.active }, { labels }, rules, at);
        if (next.kind === 'none') return next;
        const job = leased(next.job, workerId, leaseMs, at);
        await put(db, job, next.job.state, at);
        return { kind: 'leased', job };
      });
    },

    async heartbeat(jobId: string, workerId: string, leaseMs: number): Promise<boolean> {
      checkLeaseMs(leaseMs);
      return tx(async (db) => {
        const at = now();
        const job = await heldBy(db, jobId, workerId, at);
        if (!job) return false;
        await put(db, Object.freeze({ ...job, leaseUntil: at + leaseMs }), job.state, at);
        return true;
      });
    },

    async complete(jobId: string, workerId: string, outcome: WorkerOutcome, buildId?: string): Promise<boolean> {
      if (!WORKER_OUTCOMES.includes(outcome)) {
        throw new KilnError('KILN_USAGE', `job ${jobId}: "${String(outcome)}" is not an outcome a worker reports`, {
          hint: `report one of ${WORKER_OUTCOMES.join(', ')}`,
        });
      }
      return tx(async (db) => {
        const at = now();
        const job = await heldBy(db, jobId, workerId, at);
        if (!job) return false;
        await put(db, afterAttempt(job, outcome, at, buildId), job.state, at);
        return true;
      });
    },

    async cancel(jobId: string): Promise<boolean> {
      return tx(async (db) => {
        const row = await jobRow(db, jobId);
        if (!row || isTerminal(row.state)) return false;
        const at = now();
        await put(db, cancelled(jobFromRow(row), at), row.state, at);
        return true;
      });
    },

    async get(jobId: string): Promise<Job | undefined> {
      const row = await jobRow(store.db, jobId);
      return row ? jobFromRow(row) : undefined;
    },

    async list(filter: JobListFilter = {}): Promise<Job[]> {
      return (await listJobRows(store.db, filter)).map(jobFromRow);
    },

    async stats(at?: Date) {
      const jobs = (await activeJobRows(store.db)).map(jobFromRow);
      return queueStats({ jobs }, rules.classes, (at ?? clock()).getTime());
    },

    async reap(at?: Date): Promise<Reaped> {
      return tx(async (db) => {
        const { requeued, lost } = await reapIn(
          db,
          (await activeJobRows(db)).map(jobFromRow),
          (at ?? clock()).getTime(),
          onChange,
        );
        return { requeued, lost };
      });
    },
  };
}

/** Ends the expired leases among `jobs` (requeued, or lost when out of attempts); returns the jobs still active. */
async function reapIn(
  db: JobsTx,
  jobs: readonly Job[],
  at: number,
  onChange: JobChangeHook,
): Promise<{ active: Job[]; requeued: string[]; lost: string[] }> {
  const changed = new Map<string, Job>();
  for (const job of expiredLeases({ jobs }, at)) {
    const next = afterAttempt(job, 'lost', at);
    await updateJobRow(db, jobToRow(next));
    await onChange(db, next, at);
    changed.set(job.id, next);
  }
  const after = jobs.map((j) => changed.get(j.id) ?? j);
  const ended = [...changed.values()];
  return {
    active: after.filter((j) => !isTerminal(j.state)),
    requeued: ended.filter((j) => j.state === 'queued').map((j) => j.id),
    lost: ended.filter((j) => j.state === 'lost').map((j) => j.id),
  };
}

/** The job `jobId` when `workerId` holds its lease at `at` (running, leased to it, not expired). */
async function heldBy(db: JobsTx, jobId: string, workerId: string, at: number): Promise<Job | undefined> {
  const row = await jobRow(db, jobId);
  if (!row) return undefined;
  const job = jobFromRow(row);
  const holds = job.state === 'running' && job.workerId === workerId && (job.leaseUntil ?? 0) > at;
  return holds ? job : undefined;
}

function queueRules(options: StoreQueueOptions): QueueRules {
  const classes = options.classes ?? DEFAULT_CLASSES;
  const counts = [options.global, options.perProject, ...Object.values(options.projects ?? {})];
  if (classes.length === 0 || new Set(classes).size !== classes.length || !counts.every(isPositiveInteger)) {
    throw new KilnError(
      'KILN_USAGE',
      `build queue rules are invalid (classes: [${classes.join(', ')}], global ${options.global}, per project ${options.perProject})`,
      { hint: 'give distinct class names and concurrency limits that are whole numbers of at least 1' },
    );
  }
  return Object.freeze({ classes, global: options.global, perProject: options.perProject, projects: options.projects });
}

function checkLeaseMs(leaseMs: number): void {
  if (!isPositiveInteger(leaseMs)) {
    throw new KilnError('KILN_USAGE', `a lease of ${leaseMs} ms is not a positive whole number of milliseconds`, {
      hint: 'lease jobs for a duration such as 60000 (one minute), and heartbeat well before it runs out',
    });
  }
}

function isPositiveInteger(n: number): boolean {
  return Number.isInteger(n) && n >= 1;
}
