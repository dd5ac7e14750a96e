import { isKilnError, type KilnError } from '../../src/core/errors.js';

/** The KilnError `fn` throws; anything else (or nothing thrown) fails the test. */
export function thrown(fn: () => unknown): KilnError {
  try {
    fn();
  } catch (err) {
    if (isKilnError(err)) return err;
    throw err;
  }
  throw new Error('expected a KilnError');
}

/** The KilnError `promise` rejects with; fulfilling, or rejecting with anything else, fails the test. */
export async function rejected(promise: Promise<unknown>): Promise<KilnError> {
  const outcome = await promise.then(
    () => ({ settled: 'fulfilled' as const }),
    (err: unknown) => ({ settled: 'rejected' as const, err }),
  );
  if (outcome.settled === 'fulfilled') throw new Error('expected a KilnError, but it succeeded');
  if (!isKilnError(outcome.err)) throw outcome.err;
  return outcome.err;
}
