// One error type for everything a user can cause or fix; codes are stable and map to exit/HTTP statuses.

/**
 * Every stable error code Kiln raises, with the exit status a command ends with, the HTTP status an API answers with,
 * what it means and the usual fix. Users look codes up in docs/reference/errors.md, which is generated from this table.
 */
export const ERROR_CODES = Object.freeze({
  KILN_USAGE: {
    exit: 2,
    http: 400,
    meaning: 'a command was called with unknown, missing or malformed arguments',
    fix: 'read the hint and `kiln <command> --help`',
  },
  KILN_CONFIG_INVALID: {
    exit: 2,
    http: 422,
    meaning:
      'kiln.yaml or kiln-server.yaml (or a file or environment variable it names) breaks a rule; every problem of the file is listed with file:line:column',
    fix: 'correct each listed line; `kiln config check` (`--server FILE` for kiln-server.yaml) validates without building',
  },
  KILN_CONFIG_NOT_FOUND: {
    exit: 2,
    http: 404,
    meaning: 'the commit or directory has no kiln.yaml, or the kiln-server.yaml given does not exist',
    fix: 'create kiln.yaml in the project directory and commit it (or build with --allow-dirty)',
  },
  KILN_SOURCE_DIRTY: {
    exit: 2,
    http: 409,
    meaning: 'the working tree has uncommitted changes, so no commit pins what would be built',
    fix: 'commit or stash the changes, or pass --allow-dirty (provenance then records dirty: true)',
  },
  KILN_SOURCE_GIT: {
    exit: 2,
    http: 422,
    meaning: 'git could not resolve the repository, revision or file',
    fix: 'check the path is inside a git repository and --rev names a commit',
  },
  KILN_SOURCE_SUBMODULE: {
    exit: 2,
    http: 422,
    meaning: "a step's inputs reach a git submodule, whose files are in another repository and not in the commit built",
    fix: 'name inputs that leave the submodule out, or vendor its files into the repository',
  },
  KILN_STEP_FAILED: {
    exit: 1,
    http: 422,
    meaning: 'a build step exited non-zero, timed out or was killed',
    fix: 'read the log tail in the message (full log: `kiln show BUILD_ID`) and fix the step',
  },
  KILN_STEP_LIMIT: {
    exit: 1,
    http: 422,
    meaning: 'a build step hit one of its resource limits (processes, memory, open files, output)',
    fix: 'raise that limit under `limits` in kiln.yaml, or make the step use less',
  },
  KILN_INTERRUPTED: {
    exit: 130,
    http: 503,
    meaning: 'the build was stopped (Ctrl-C, SIGTERM); its running steps were stopped and the attempt recorded',
    fix: 'run the build again; cached steps are replayed',
  },
  KILN_OUTPUT_MISSING: {
    exit: 1,
    http: 422,
    meaning: 'an artifact names a path its step did not produce',
    fix: 'make the step write the path, or correct artifacts[].path in kiln.yaml',
  },
  KILN_PACKAGE_UNSAFE: {
    exit: 1,
    http: 422,
    meaning:
      'an output could not be packaged safely (a link or path leaving its root, a file where a directory belongs)',
    fix: 'make the step write plain files and directories inside its outputs',
  },
  KILN_SBOM_INVALID: {
    exit: 1,
    http: 422,
    meaning: 'an SBOM Kiln made or read does not validate against its official schema',
    fix: 'report it as a bug with the lockfile that caused it',
  },
  KILN_LOCKFILE_INVALID: {
    exit: 1,
    http: 422,
    meaning: 'a lockfile (or its companion, such as go.mod or package.json) is malformed or inexact',
    fix: 'regenerate the lockfile with its package manager; the message names file:line',
  },
  KILN_LOCKFILE_UNSUPPORTED: {
    exit: 1,
    http: 422,
    meaning: 'a lockfile its package manager accepts uses a construct Kiln cannot read yet',
    fix: 'report it with the lockfile and package.json; the message names the construct and its line',
  },
  KILN_KEY_INVALID: {
    exit: 2,
    http: 422,
    meaning: 'a key file is not a usable PEM key of a supported algorithm (ECDSA P-256, Ed25519)',
    fix: 'generate one with `kiln keys generate --out NAME`',
  },
  KILN_KEY_NOT_FOUND: {
    exit: 2,
    http: 422,
    meaning: 'the signing or trusted key named by a flag, variable or kiln.yaml cannot be read',
    fix: 'point --key, KILN_SIGNING_KEY or signing.key at an existing key file',
  },
  KILN_SIGNATURE_INVALID: {
    exit: 3,
    http: 422,
    meaning: 'a signature does not verify with the trusted key',
    fix: 'verify with the signer’s public key; do not deploy what fails',
  },
  KILN_VERIFY_FAILED: {
    exit: 3,
    http: 422,
    meaning:
      'an artifact or its evidence failed a check (digest, subject, predicate, builder, source, required evidence), or a promotion was refused because of one',
    fix: 'read each ✗ line; promote and deploy only artifacts whose evidence verifies',
  },
  KILN_BUNDLE_INVALID: {
    exit: 3,
    http: 422,
    meaning: 'a Sigstore bundle is malformed or of an unsupported version',
    fix: 'pass the .sigstore.json Kiln wrote next to the artifact',
  },
  KILN_OCI_LAYOUT: {
    exit: 4,
    http: 500,
    meaning: 'the local OCI image layout is malformed, or a blob in it does not match its digest',
    fix: 'restore $KILN_HOME/oci from a backup, or move it away and build again',
  },
  KILN_STORE: {
    exit: 4,
    http: 500,
    meaning: 'the provenance store cannot be opened, migrated or written',
    fix: 'check the disk and permissions of $KILN_HOME/store.db, or that the PostgreSQL server of --database is reachable',
  },
  KILN_NOT_FOUND: {
    exit: 2,
    http: 404,
    meaning: 'a build, artifact, file or reference does not exist',
    fix: 'list builds with `kiln builds`; check the path or reference',
  },
  KILN_IO: {
    exit: 4,
    http: 500,
    meaning: 'a file could not be read or written (permissions, full disk)',
    fix: 'read the path in the message; free space or fix permissions',
  },
  KILN_DISK_FULL: {
    exit: 4,
    http: 507,
    meaning: 'a file system Kiln writes to (KILN_HOME, the work directory, the output directory) is full',
    fix: 'free space there (`kiln gc`, `kiln cache gc`) or move KILN_HOME or the output directory, then build again',
  },
  KILN_SANDBOX: {
    exit: 4,
    http: 500,
    meaning: 'the sandbox cannot start (bubblewrap missing or refused) or the builder rootfs is unusable',
    fix: 'install bubblewrap (apt-get install bubblewrap), or pass --runner host (provenance says not hermetic)',
  },
  KILN_CACHE_CORRUPT: {
    exit: 4,
    http: 500,
    meaning: 'a cache entry failed its digest check where it could not simply count as a miss',
    fix: 'run `kiln cache gc --max-size 0` to empty the local cache, then build again',
  },
  KILN_CACHE_REMOTE: {
    exit: 4,
    http: 502,
    meaning: 'the remote cache settings are unusable (bad URL or header)',
    fix: 'correct cache.remote in kiln.yaml or KILN_REMOTE_CACHE / KILN_REMOTE_CACHE_AUTH',
  },
  KILN_POLICY_BLOCKED: {
    exit: 5,
    http: 409,
    meaning: 'kiln.yaml’s policy blocked the build (nothing was published) or a promotion (judged by today’s data)',
    fix: 'upgrade the named dependencies, or add a policy.exceptions entry with a reason and an expiry',
  },
  KILN_REGISTRY_HTTP: {
    exit: 4,
    http: 502,
    meaning: 'a registry answered with an error, or could not be reached after retries',
    fix: 'check the registry address and that it is up; rerun (publishing resumes)',
  },
  KILN_REGISTRY_AUTH: {
    exit: 4,
    http: 502,
    meaning: 'a registry refused the credentials, or none were found for it',
    fix: 'set KILN_REGISTRY_USERNAME / KILN_REGISTRY_PASSWORD or log in (~/.docker/config.json)',
  },
  KILN_TAG_IMMUTABLE: {
    exit: 2,
    http: 409,
    meaning: 'a tag already points at another digest, and tags are immutable unless declared mutable',
    fix: 'use a new tag, or declare it with --mutable-tag / publish.mutableTags',
  },
  KILN_UNAUTHENTICATED: {
    exit: 2,
    http: 401,
    meaning:
      'an API request carried no bearer token, or one that is unknown or revoked; or a webhook delivery whose signature or token does not verify',
    fix: 'send `Authorization: Bearer <token>` with a token from `kiln tokens create`; for a webhook, give the sender the same secret Kiln has',
  },
  KILN_FORBIDDEN: {
    exit: 2,
    http: 403,
    meaning: "the API token's scope does not allow the request",
    fix: 'use a token with the scope named in the message (read < trigger < admin)',
  },
  KILN_BAD_REQUEST: {
    exit: 2,
    http: 400,
    meaning: 'an API request or webhook delivery is malformed: a body that is not JSON, a missing header or field',
    fix: 'send the body and headers the message names (webhooks: the JSON content type, the documented events)',
  },
  KILN_PAYLOAD_TOO_LARGE: {
    exit: 2,
    http: 413,
    meaning: 'a request body is larger than the server accepts',
    fix: 'send a smaller body, or raise the limit the message names',
  },
} satisfies Record<string, ErrorCodeSpec>);

/** What one stable code means to whoever meets it. */
export interface ErrorCodeSpec {
  /** Process exit status: 1 build failed, 2 usage/config, 3 verification, 4 environment, 5 policy, 130 interrupted. */
  readonly exit: number;
  /** HTTP status of an API answer carrying this error. */
  readonly http: number;
  readonly meaning: string;
  readonly fix: string;
}

/** Every stable error code Kiln can raise. Add new codes to ERROR_CODES. */
export type KilnErrorCode = keyof typeof ERROR_CODES;

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

/** The exit status a command ends with for `code`. */
export function exitStatusOf(code: KilnErrorCode): number {
  return ERROR_CODES[code].exit;
}

/** Exit status for an unexpected failure (a bug). */
export const EXIT_BUG = 70;

/** True when `err` is a KilnError (optionally with the given code). */
export function isKilnError(err: unknown, code?: KilnErrorCode): err is KilnError {
  return err instanceof KilnError && (code === undefined || err.code === code);
}
