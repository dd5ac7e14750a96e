// Webhook payloads from test/fixtures/webhooks/, as the exact bytes a sender would put on the wire, and the checks
// every receiver test repeats: the code a failure carries, its HTTP status, and that it names no secret.
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { ERROR_CODES, type KilnError, type KilnErrorCode } from '../../../../src/core/errors.js';
import { thrown } from '../../../helpers/errors.js';

const DIR = new URL('../../../fixtures/webhooks/', import.meta.url);

/** The bytes of a fixture payload, as stored (pretty-printed JSON, like GitHub and GitLab send). */
export function payload(name: string): Buffer {
  return readFileSync(new URL(name, DIR));
}

/** The KilnError `fn` throws, checked to carry `code` (and so its HTTP status) and none of `secrets` in its text. */
export function failure(fn: () => unknown, code: KilnErrorCode, http: number, secrets: readonly string[]): KilnError {
  const err = thrown(fn);
  expect(err.code).toBe(code);
  expect(ERROR_CODES[err.code].http).toBe(http);
  const text = `${err.message}\n${err.hint ?? ''}\n${JSON.stringify(err.details ?? {})}`;
  for (const secret of secrets) expect(text).not.toContain(secret);
  return err;
}
