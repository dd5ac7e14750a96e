// Sleeps that something else can cut short: an idle worker waits for its next poll or for a submission, a log stream
// for its next look or for a job's end.

/** Sleepers that `ring` wakes all at once; each sleeps at most the time it asked for. */
export interface Alarm {
  /** Resolves after `ms`, or at the next `ring`, whichever comes first. */
  sleep(ms: number): Promise<void>;
  /** Wakes every sleeper now. */
  ring(): void;
}

export function alarm(): Alarm {
  const sleepers = new Set<() => void>();
  return {
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          sleepers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, ms);
        sleepers.add(wake);
      }),
    ring() {
      for (const wake of [...sleepers]) wake();
    },
  };
}
