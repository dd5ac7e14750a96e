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
