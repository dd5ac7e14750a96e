// The verification report: every check Kiln ran, each saying what it expected and what it found.

/** Names of the checks `verifyBundle` (and `kiln verify --require`) can report, in the order they run. */
export type VerifyCheckName =
  | 'bundle'
  | 'signature-count'
  | 'public-key'
  | 'trusted-root'
  | 'signature'
  | 'payload-type'
  | 'statement'
  | 'subject-digest'
  | 'predicate-type'
  | 'builder-id'
  | 'source-commit'
  | 'source-repo'
  | 'evidence'
  | 'policy-result';

/** One check's outcome; failures always carry expected vs actual in `message`. */
export interface VerifyCheck {
  readonly check: VerifyCheckName;
  readonly ok: boolean;
  readonly expected?: string;
  readonly actual?: string;
  readonly message: string;
}

/** The result of verifying one bundle against one artifact: ok only if every check ran and passed. */
export interface VerifyReport {
  readonly ok: boolean;
  readonly checks: readonly VerifyCheck[];
}

/** A passed check. */
export function pass(check: VerifyCheckName, message: string, actual?: string): VerifyCheck {
  return actual === undefined ? { check, ok: true, message } : { check, ok: true, actual, message };
}

/** A failed check whose message states what was expected and what was found. */
export function fail(check: VerifyCheckName, what: string, expected: string, actual: string): VerifyCheck {
  return { check, ok: false, expected, actual, message: `${what}: expected ${expected}, got ${actual}` };
}

/** Freezes the checks into a report; an empty check list is never ok. */
export function toReport(checks: VerifyCheck[]): VerifyReport {
  const ok = checks.length > 0 && checks.every((c) => c.ok);
  return Object.freeze({ ok, checks: Object.freeze(checks.map((c) => Object.freeze(c))) });
}
