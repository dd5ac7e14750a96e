// Bounded retries with exponential backoff and full jitter, for the requests (or whole uploads) that are safe to repeat.
import type { KilnError } from '../../core/errors.js';

/** How often and how long to retry: `attempts` in all (the first try included), delays capped at `capMs`. */
export interface RetryPolicy {
  readonly attempts: number;
  readonly baseMs: number;
  readonly capMs: number;
}

/** Five attempts, 250 ms doubling, never more than 8 s between two of them. */
export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ attempts: 5, baseMs: 250, capMs: 8000 });

/** The effects retrying needs; tests pass a `sleep` that records instead of waiting. */
export interface RetryDeps {
  readonly policy: RetryPolicy;
  readonly sleep: (ms: number) => Promise<void>;
  /** Uniform in [0, 1). */
  readonly random: () => number;
}

/**
 * A failure worth another attempt (429, 5xx, a dropped connection). `final` builds the error the user sees when
 * the attempts run out, so it can say how many were made.
 */
export class TransientFailure extends Error {
  readonly retryAfterMs: number | undefined;
  readonly final: (attempts: number) => KilnError;

  constructor(reason: string, final: (attempts: number) => KilnError, retryAfterMs?: number) {
    super(reason);
    this.name = 'TransientFailure';
    this.final = final;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Runs `unit` (given the attempt number, from 1) until it succeeds, throws something that is not a TransientFailure, or the attempts run out. */
export async function retrying<T>(unit: (attempt: number) => Promise<T>, deps: RetryDeps): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await unit(attempt);
    } catch (err) {
      if (!(err instanceof TransientFailure)) throw err;
      if (attempt >= deps.policy.attempts) throw err.final(attempt);
      await deps.sleep(backoffDelay(attempt, deps.policy, deps.random, err.retryAfterMs));
    }
  }
}

/**
 * The wait after the `attempt`-th failure: the server's Retry-After when it sent one, else "full jitter"
 * (uniform in [0, min(cap, base·2^(attempt-1)))); both capped.
 */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number,
  retryAfterMs?: number,
): number {
  if (retryAfterMs !== undefined) return Math.min(policy.capMs, Math.max(0, retryAfterMs));
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or bad. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) || !/[a-z]/i.test(text) ? undefined : Math.max(0, date - now);
}
