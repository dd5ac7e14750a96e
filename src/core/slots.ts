// A counting semaphore: at most n holders at once, the longest waiter served first, waiting cut short by an abort.

/** Slots: `acquire` resolves with the function that gives the slot back, or rejects once `signal` aborts. */
export interface RunSlots {
  acquire(signal?: AbortSignal): Promise<() => void>;
}

const NEVER = new AbortController().signal;

/** A counting semaphore over `n` slots; waiting ends early (rejecting) when `signal` aborts. */
export function runSlots(n: number): RunSlots {
  let free = n;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  return {
    acquire(signal = NEVER) {
      if (free > 0) {
        free--;
        return Promise.resolve(release);
      }
      return new Promise((resolve, reject) => {
        const grant = () => {
          signal.removeEventListener('abort', onAbort);
          resolve(release);
        };
        const onAbort = () => {
          const i = waiting.indexOf(grant);
          if (i !== -1) waiting.splice(i, 1);
          reject(signal.reason);
        };
        if (signal.aborted) return onAbort();
        waiting.push(grant);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}
