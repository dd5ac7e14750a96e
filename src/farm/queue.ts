// The build queue as the control plane and workers use it: one interface, a backend per store (SQLite embedded now,
// PostgreSQL later), all deciding through policy.ts so they share the same semantics.
import type { Job, JobState, JobSubmission, Labels, WorkerOutcome } from './job.js';
import type { IdleReason } from './policy.js';
import type { QueueStats } from './stats.js';

/** What `submit` did: the job queued (and the queued jobs it superseded), or the active job it duplicates. */
export interface Submitted {
  readonly id: string;
  readonly deduplicated: boolean;
  /** The queued jobs this one cancelled (same project and branch). */
  readonly superseded: readonly string[];
}

/** A lease: the job a worker now runs until `job.leaseUntil`, or why it got none. */
export type Lease =
  | { readonly kind: 'leased'; readonly job: Job }
  | { readonly kind: 'none'; readonly reason: IdleReason };

/** What `reap` did with the expired leases: jobs queued again, and jobs out of attempts (ended `lost`). */
export interface Reaped {
  readonly requeued: readonly string[];
  readonly lost: readonly string[];
}

/** Which jobs `list` returns: of a project, in some states, at most `limit` (default 100); newest first. */
export interface JobListFilter {
  readonly project?: string;
  readonly states?: readonly JobState[];
  readonly limit?: number;
}

/** The build queue. Every operation is atomic; times default to the queue's clock. */
export interface BuildQueue {
  /** Queues a build, or answers with the active job of the same project and commit (unless `force`). */
  submit(submission: JobSubmission): Promise<Submitted>;
  /** Leases the next job this worker may run (its labels) for `leaseMs`, after requeueing expired leases. */
  lease(workerId: string, labels: Labels, leaseMs: number): Promise<Lease>;
  /** Extends the worker's lease to now + `leaseMs`; false when it no longer holds it (expired, cancelled, ended). */
  heartbeat(jobId: string, workerId: string, leaseMs: number): Promise<boolean>;
  /** Ends the worker's attempt; false (and nothing changes) when it no longer holds the lease. */
  complete(jobId: string, workerId: string, outcome: WorkerOutcome, buildId?: string): Promise<boolean>;
  /** Cancels a queued or running job; false when it is unknown or has already ended. */
  cancel(jobId: string): Promise<boolean>;
  get(jobId: string): Promise<Job | undefined>;
  list(filter?: JobListFilter): Promise<Job[]>;
  /** Depth and oldest wait per class, and how many run, at `now`. */
  stats(now?: Date): Promise<QueueStats>;
  /** Expired leases at `now`: queued again, or `lost` when out of attempts. */
  reap(now?: Date): Promise<Reaped>;
}
