// The scheduling policy of the build queue as pure functions over plain data (no I/O, no clock: `now` comes in), so
// every queue backend (SQLite now, PostgreSQL later) makes the same decisions. Times are epoch milliseconds.
import { type AttemptOutcome, isTerminal, type Job, type JobSubmission, type Labels } from './job.js';

/** The active jobs (queued and running) a decision is made over. */
export interface QueueState {
  readonly jobs: readonly Job[];
}

/** Priority classes and concurrency limits. */
export interface QueueRules {
  /** Class names, highest priority first. */
  readonly classes: readonly string[];
  /** Jobs running at once in all. */
  readonly global: number;
  /** Jobs of one project running at once, unless `projects` names the project. */
  readonly perProject: number;
  readonly projects?: Readonly<Record<string, number>>;
}

/** A submission with the identity the queue gives it. */
export interface NewJob extends JobSubmission {
  readonly id: string;
  readonly seq: number;
}

/** What becomes of a submission: queued (cancelling the jobs it supersedes), or a duplicate of an active job. */
export type Admission =
  | { readonly kind: 'queued'; readonly job: Job; readonly cancel: readonly Job[] }
  | { readonly kind: 'duplicate'; readonly of: string };

/** Why a worker gets no job: none queued, all waiting for a retry, none with its labels, all held by limits. */
export type IdleReason = 'empty' | 'backoff' | 'labels' | 'limits';

/** The job a worker should lease next, or why there is none. */
export type NextJob =
  | { readonly kind: 'lease'; readonly job: Job }
  | { readonly kind: 'none'; readonly reason: IdleReason };

const BASE_RETRY_MS = 5_000;
const MAX_RETRY_MS = 5 * 60_000;
const DEFAULT_MAX_ATTEMPTS = 3;

/** Problems of a submission, each with its dot-path; empty when it can be queued under `classes`. */
export function submissionProblems(s: JobSubmission, classes: readonly string[]): string[] {
  const problems: string[] = [];
  if (typeof s.project !== 'string' || s.project === '') problems.push('project: must be a non-empty string');
  if (typeof s.commit !== 'string' || s.commit === '') problems.push('commit: must be a non-empty string');
  if (s.priority !== undefined && !classes.includes(s.priority)) {
    problems.push(`priority: "${s.priority}" is not a class (classes: ${classes.join(', ')})`);
  }
  if (s.maxAttempts !== undefined && !(Number.isInteger(s.maxAttempts) && s.maxAttempts >= 1)) {
    problems.push(`maxAttempts: must be an integer of at least 1, not ${String(s.maxAttempts)}`);
  }
  for (const [key, value] of Object.entries(s.labels ?? {})) {
    if (typeof value !== 'string') problems.push(`labels.${key}: must be a string`);
  }
  return problems;
}

/**
 * Admits a submission: a duplicate of the oldest active job of the same project and commit unless `force`; else queued,
 * cancelling the queued (never running) jobs of the same project and branch when both it and they are supersedable.
 */
export function admit(state: QueueState, s: NewJob, rules: Pick<QueueRules, 'classes'>, now: number): Admission {
  if (!s.force) {
    const same = byOrder(state.jobs.filter((j) => j.project === s.project && j.commit === s.commit))[0];
    if (same) return Object.freeze({ kind: 'duplicate', of: same.id });
  }
  const job: Job = Object.freeze({
    id: s.id,
    seq: s.seq,
    project: s.project,
    commit: s.commit,
    branch: s.branch ?? null,
    priority: s.priority ?? (rules.classes.includes('normal') ? 'normal' : (rules.classes.at(-1) ?? 'normal')),
    labels: Object.freeze({ ...s.labels }),
    payload: Object.freeze({ ...s.payload }),
    force: s.force ?? false,
    supersedable: s.supersedable ?? false,
    maxAttempts: s.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    state: 'queued',
    attempt: 0,
    submittedAt: now,
    availableAt: now,
    workerId: null,
    leasedAt: null,
    leaseUntil: null,
    supersededBy: null,
    buildId: null,
    endedAt: null,
    attempts: Object.freeze([]),
  });
  const cancel =
    job.supersedable && job.branch !== null
      ? state.jobs.filter(
          (j) => j.state === 'queued' && j.supersedable && j.project === job.project && j.branch === job.branch,
        )
      : [];
  return Object.freeze({ kind: 'queued', job, cancel: Object.freeze(cancel.map((j) => cancelled(j, now, job.id))) });
}

/**
 * The job `worker` should lease now: the first by class rank, then submission order, among the queued jobs past their
 * backoff whose labels the worker all has, and whose project and the queue are under their running limits.
 */
export function pickNext(
  state: QueueState,
  worker: { readonly labels: Labels },
  rules: QueueRules,
  now: number,
): NextJob {
  const queued = state.jobs.filter((j) => j.state === 'queued');
  if (queued.length === 0) return none('empty');
  const ready = queued.filter((j) => j.availableAt <= now);
  if (ready.length === 0) return none('backoff');
  const matching = ready.filter((j) => hasLabels(worker.labels, j.labels));
  if (matching.length === 0) return none('labels');
  const running = state.jobs.filter((j) => j.state === 'running');
  if (running.length >= rules.global) return none('limits');
  const rank = (j: Job) => {
    const r = rules.classes.indexOf(j.priority);
    return r === -1 ? rules.classes.length : r;
  };
  const ordered = [...matching].sort((a, b) => rank(a) - rank(b) || a.seq - b.seq);
  const job = ordered.find(
    (j) => running.filter((r) => r.project === j.project).length < (rules.projects?.[j.project] ?? rules.perProject),
  );
  return job ? Object.freeze({ kind: 'lease', job }) : none('limits');
}

/** The running jobs whose lease has expired at `now`. */
export function expiredLeases(state: QueueState, now: number): Job[] {
  return byOrder(state.jobs.filter((j) => j.state === 'running' && (j.leaseUntil ?? 0) <= now));
}

/** How long an infrastructure failure of attempt `attempt` (1, 2, …) waits before the next: 5 s doubled each time. */
export function retryDelay(attempt: number): number {
  return Math.min(BASE_RETRY_MS * 2 ** Math.max(0, attempt - 1), MAX_RETRY_MS);
}

/** `job` leased to `workerId` until `now + leaseMs`: its next attempt starts. */
export function leased(job: Job, workerId: string, leaseMs: number, now: number): Job {
  return Object.freeze({
    ...job,
    state: 'running',
    attempt: job.attempt + 1,
    workerId,
    leasedAt: now,
    leaseUntil: now + leaseMs,
  });
}

/**
 * `job` after its running attempt ended with `outcome`: succeeded, failed and blocked are final; an infrastructure
 * failure is retried after `retryDelay`, a lost lease at once, until `maxAttempts` attempts, then the job is `lost`;
 * `cancelled` ends it.
 */
export function afterAttempt(job: Job, outcome: AttemptOutcome, now: number, buildId?: string): Job {
  const attempt = Object.freeze({
    attempt: job.attempt,
    workerId: job.workerId ?? '',
    startedAt: job.leasedAt ?? now,
    endedAt: now,
    outcome,
    buildId: buildId ?? null,
  });
  const ended: Job = {
    ...job,
    attempts: Object.freeze([...job.attempts, attempt]),
    workerId: null,
    leasedAt: null,
    leaseUntil: null,
    buildId: buildId ?? job.buildId,
  };
  switch (outcome) {
    case 'succeeded':
    case 'failed':
    case 'blocked':
    case 'cancelled':
      return Object.freeze({ ...ended, state: outcome, endedAt: now });
    case 'infra':
    case 'lost':
      if (job.attempt >= job.maxAttempts) return Object.freeze({ ...ended, state: 'lost', endedAt: now });
      return Object.freeze({
        ...ended,
        state: 'queued',
        availableAt: outcome === 'infra' ? now + retryDelay(job.attempt) : now,
      });
  }
}

/** `job` cancelled at `now` (by the submission of `by`, when it was superseded). */
export function cancelled(job: Job, now: number, by?: string): Job {
  if (isTerminal(job.state)) return job;
  const base = job.state === 'running' ? afterAttempt(job, 'cancelled', now) : job;
  return Object.freeze({ ...base, state: 'cancelled', supersededBy: by ?? null, endedAt: now });
}

function hasLabels(worker: Labels, required: Labels): boolean {
  return Object.entries(required).every(([key, value]) => Object.hasOwn(worker, key) && worker[key] === value);
}

function byOrder(jobs: readonly Job[]): Job[] {
  return [...jobs].sort((a, b) => a.seq - b.seq);
}

function none(reason: IdleReason): NextJob {
  return Object.freeze({ kind: 'none', reason });
}
