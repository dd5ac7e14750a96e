// One error type for everything a user can cause or fix; codes are stable and map to exit/HTTP statuses.

/** Every stable error code Kiln can raise. Add new codes here and in both tables below. */
export type KilnErrorCode =
  | 'E_USAGE'
  | 'E_CONFIG_INVALID'
  | 'E_CONFIG_NOT_FOUND'
  | 'E_SOURCE_DIRTY'
  | 'E_SOURCE_GIT'
  | 'E_STEP_FAILED'
  | 'E_INTERRUPTED'
  | 'E_OUTPUT_MISSING'
  | 'E_PACKAGE_UNSAFE'
  | 'E_SBOM_INVALID'
  | 'E_LOCKFILE_INVALID'
  | 'E_KEY_INVALID'
  | 'E_KEY_NOT_FOUND'
  | 'E_SIGNATURE_INVALID'
  | 'E_VERIFY_FAILED'
  | 'E_BUNDLE_INVALID'
  | 'E_OCI_LAYOUT'
  | 'E_STORE'
  | 'E_NOT_FOUND'
  | 'E_IO'
  | 'E_SANDBOX'
  | 'E_CACHE_CORRUPT'
  | 'E_CACHE_REMOTE'
  | 'E_POLICY_BLOCKED'
  | 'E_REGISTRY_HTTP'
  | 'E_REGISTRY_AUTH'
  | 'E_TAG_IMMUTABLE';

/** A failure the user can understand and act on: what went wrong, where, and a hint how to fix it. */
export class KilnError extends Error {
  readonly code: KilnErrorCode;
  readonly hint: string | undefined;
  /** Extra machine-readable detail (e.g. all config problems, a step's exit code). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: KilnErrorCode,
    message: string,
    opts: { hint?: string; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'KilnError';
    this.code = code;
    this.hint = opts.hint;
    this.details = opts.details ? Object.freeze({ ...opts.details }) : undefined;
  }
}

/**
 * Process exit statuses by error code: 1 = build failed, 2 = usage/config, 3 = verification, 4 = environment,
 * 5 = blocked by policy, 130 = interrupted.
 */
export const EXIT_CODES: Readonly<Record<KilnErrorCode, number>> = Object.freeze({
  E_USAGE: 2,
  E_CONFIG_INVALID: 2,
  E_CONFIG_NOT_FOUND: 2,
  E_SOURCE_DIRTY: 2,
  E_SOURCE_GIT: 2,
  E_STEP_FAILED: 1,
  E_INTERRUPTED: 130,
  E_OUTPUT_MISSING: 1,
  E_PACKAGE_UNSAFE: 1,
  E_SBOM_INVALID: 1,
  E_LOCKFILE_INVALID: 1,
  E_KEY_INVALID: 2,
  E_KEY_NOT_FOUND: 2,
  E_SIGNATURE_INVALID: 3,
  E_VERIFY_FAILED: 3,
  E_BUNDLE_INVALID: 3,
  E_OCI_LAYOUT: 4,
  E_STORE: 4,
  E_NOT_FOUND: 2,
  E_IO: 4,
  E_SANDBOX: 4,
  E_CACHE_CORRUPT: 4,
  E_CACHE_REMOTE: 4,
  E_POLICY_BLOCKED: 5,
  E_REGISTRY_HTTP: 4,
  E_REGISTRY_AUTH: 4,
  E_TAG_IMMUTABLE: 2,
});

/** Exit status for an unexpected failure (a bug). */
export const EXIT_BUG = 70;

/** True when `err` is a KilnError (optionally with the given code). */
export function isKilnError(err: unknown, code?: KilnErrorCode): err is KilnError {
  return err instanceof KilnError && (code === undefined || err.code === code);
}
