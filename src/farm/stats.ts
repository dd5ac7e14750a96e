// The queue's figures for autoscaling: how deep each priority class is and how long its oldest job has waited.
import type { QueueState } from './policy.js';

/** The queued jobs of one class: how many, and how long the oldest has waited (0 when none). */
export interface ClassStats {
  readonly priority: string;
  readonly depth: number;
  readonly oldestWaitMs: number;
}

/** What an autoscaler reads: each class's depth and oldest wait (configured classes first, in order), and running. */
export interface QueueStats {
  readonly classes: readonly ClassStats[];
  readonly running: number;
}

/** The queue's figures at `now`. */
export function queueStats(state: QueueState, classes: readonly string[], now: number): QueueStats {
  const queued = state.jobs.filter((j) => j.state === 'queued');
  const names = [...new Set([...classes, ...queued.map((j) => j.priority)])];
  const perClass = names.map((priority) => {
    const mine = queued.filter((j) => j.priority === priority);
    const oldest = Math.min(...mine.map((j) => j.submittedAt));
    return Object.freeze({ priority, depth: mine.length, oldestWaitMs: mine.length ? Math.max(0, now - oldest) : 0 });
  });
  const running = state.jobs.filter((j) => j.state === 'running').length;
  return Object.freeze({ classes: Object.freeze(perClass), running });
}
