// A build job of the queue as plain data: what the scheduling policy decides over and every queue backend stores.

/** Where a job stands. `queued` and `running` are active; every job ends exactly once in one of the others. */
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'blocked' | 'cancelled' | 'lost';

/** The states a job ends in, and never leaves. */
export const TERMINAL_STATES: readonly JobState[] = Object.freeze([
  'succeeded',
  'failed',
  'blocked',
  'cancelled',
  'lost',
]);

/**
 * How a worker says an attempt ended: the build succeeded, failed in a step, was blocked by the policy gate, or the
 * infrastructure failed (the machine, the network, the worker itself): only the last is retried.
 */
export type WorkerOutcome = 'succeeded' | 'failed' | 'blocked' | 'infra';

/** How an attempt ended: as its worker said, or `lost` (its lease expired), or `cancelled` while it ran. */
export type AttemptOutcome = WorkerOutcome | 'lost' | 'cancelled';

/** Worker labels, and the labels a job requires (every one must be on the worker, same value). */
export type Labels = Readonly<Record<string, string>>;

/** One attempt at a job: which worker leased it, when, and how it ended. Times are epoch milliseconds. */
export interface JobAttempt {
  readonly attempt: number;
  readonly workerId: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly outcome: AttemptOutcome;
  readonly buildId: string | null;
}

/** The default priority classes, highest first. */
export const DEFAULT_CLASSES: readonly string[] = Object.freeze(['critical', 'high', 'normal', 'low']);

/** What a caller asks to build; defaults are filled in by the policy (`admit`). */
export interface JobSubmission {
  readonly project: string;
  readonly commit: string;
  /** The branch built; supersede works per project and branch, and never on a job without one. */
  readonly branch?: string | null;
  /** The priority class (default `normal`, or the lowest class when `normal` is not one of them). */
  readonly priority?: string;
  readonly labels?: Labels;
  /** What the worker needs to run the build (JSON), opaque to the queue. */
  readonly payload?: Readonly<Record<string, unknown>>;
  /** Queue it even when the same project and commit is already queued or running. */
  readonly force?: boolean;
  /** Whether a newer job of the same project and branch may cancel this one while it is queued (and it them). */
  readonly supersedable?: boolean;
  /** Attempts before an infrastructure failure is final (default 3). */
  readonly maxAttempts?: number;
}

/** A job as stored. Times are epoch milliseconds. */
export interface Job {
  readonly id: string;
  /** Submission order across the queue: FIFO within a class. */
  readonly seq: number;
  readonly project: string;
  readonly commit: string;
  readonly branch: string | null;
  readonly priority: string;
  readonly labels: Labels;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly force: boolean;
  readonly supersedable: boolean;
  readonly maxAttempts: number;
  readonly state: JobState;
  /** The number of the current or last attempt; 0 before the first lease. */
  readonly attempt: number;
  readonly submittedAt: number;
  /** Not leased before this time (a retry's backoff). */
  readonly availableAt: number;
  readonly workerId: string | null;
  /** When the running attempt was leased. */
  readonly leasedAt: number | null;
  readonly leaseUntil: number | null;
  /** The job whose submission cancelled this one (state `cancelled`). */
  readonly supersededBy: string | null;
  /** The build the last attempt reported. */
  readonly buildId: string | null;
  readonly endedAt: number | null;
  readonly attempts: readonly JobAttempt[];
}

/** True when the job has ended. */
export function isTerminal(state: JobState): boolean {
  return TERMINAL_STATES.includes(state);
}
