// Every registry failure as a KilnError that says what was attempted, where, with which credentials, and what to do.
import { KilnError } from '../../core/errors.js';
import { escapeForTerminal } from '../../core/terminal.js';
import { type ConnectionError, type HttpResponse, isTransientConnection } from './http.js';
import { parseRetryAfter, TransientFailure } from './retry.js';
import type { RegistryCredentials } from './types.js';

/** What a request is for, so a failure can name it: `push` of `blob sha256:…` in `team/app` on `127.0.0.1:5000`. */
export interface CallContext {
  readonly registry: string;
  readonly repository: string;
  readonly action: 'pull' | 'push' | 'delete';
  /** `blob sha256:…`, `manifest 1.0`, `tags`, `referrers of sha256:…` … */
  readonly object: string;
  readonly credentials: RegistryCredentials;
}

/** The first entry of a distribution-spec error body (`{"errors":[{"code","message"}]}`), bounded and sanitized. */
export function registryErrorOf(body: Buffer): { readonly code: string; readonly message: string } | undefined {
  if (body.length === 0 || body.length > 64 * 1024) return undefined;
  try {
    const first = (JSON.parse(body.toString('utf8')) as { errors?: unknown }).errors;
    const entry = Array.isArray(first) ? (first[0] as { code?: unknown; message?: unknown }) : undefined;
    if (typeof entry?.code !== 'string' || !/^[A-Z0-9_]{1,64}$/.test(entry.code)) return undefined;
    const message = typeof entry.message === 'string' ? clean(entry.message) : '';
    return { code: entry.code, message };
  } catch {
    return undefined;
  }
}

/** True for statuses worth another attempt: 408, 429 and 5xx except 501/505 (those will not change). */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599 && status !== 501 && status !== 505);
}

/** A retryable answer, carrying its Retry-After and the error to show when the attempts run out. */
export function transientResponse(res: HttpResponse, ctx: CallContext, now: number): TransientFailure {
  return new TransientFailure(
    `HTTP ${res.status}`,
    (attempts) => statusError(res, ctx, attempts),
    parseRetryAfter(res.headers.get('retry-after'), now),
  );
}

/** A connection failure: retryable (refused, reset, timeout) or final (DNS, TLS) as a KilnError. */
export function connectionFailure(
  err: ConnectionError,
  ctx: CallContext,
  origin: string,
): TransientFailure | KilnError {
  const build = (attempts: number): KilnError =>
    new KilnError(
      'KILN_REGISTRY_HTTP',
      `cannot reach registry ${ctx.registry} (${err.code}) to ${ctx.action} ${ctx.object} in ${ctx.repository}${tried(attempts)}`,
      {
        hint: isTransientConnection(err)
          ? `check that the registry is running and listening at ${origin}; pushing again later is safe`
          : `check the host name and its TLS certificate (Node reads extra CAs from NODE_EXTRA_CA_CERTS); a registry without TLS needs --insecure-registry ${ctx.registry}`,
        cause: err,
        details: { registry: ctx.registry, repository: ctx.repository, connection: err.code, attempts },
      },
    );
  return isTransientConnection(err) ? new TransientFailure(err.code, build) : build(1);
}

/** The error for a non-success answer: 401, 403, 404, 429, 5xx and the rest each with their own message and hint. */
export function statusError(res: HttpResponse, ctx: CallContext, attempts = 1): KilnError {
  const reg = registryErrorOf(res.body);
  const said = reg ? ` — registry says ${reg.code}${reg.message ? `: ${reg.message}` : ''}` : '';
  const status = `${res.status}${STATUS_TEXT[res.status] ? ` ${STATUS_TEXT[res.status]}` : ''}`;
  const details = {
    registry: ctx.registry,
    repository: ctx.repository,
    status: res.status,
    registryCode: reg?.code,
    attempts,
  };
  const err = (
    code: 'KILN_REGISTRY_HTTP' | 'KILN_REGISTRY_AUTH' | 'KILN_NOT_FOUND',
    message: string,
    hint: string,
  ): KilnError => new KilnError(code, message, { hint, details });
  if (res.status === 401 && ctx.credentials.kind === 'anonymous') {
    const checked = ctx.credentials.source ?? 'none configured';
    return err(
      'KILN_REGISTRY_AUTH',
      `registry ${ctx.registry} requires authentication to ${ctx.action} ${ctx.repository} (${ctx.object}); no credentials were sent: ${checked} (${status}${said})`,
      loginHint(ctx),
    );
  }
  if (res.status === 401 && !/insufficient_scope/.test(res.headers.get('www-authenticate') ?? '')) {
    return err(
      'KILN_REGISTRY_AUTH',
      `registry ${ctx.registry} rejected ${credentialsText(ctx.credentials)} for ${ctx.action} of ${ctx.repository} (${ctx.object}): ${status}${said}`,
      `check the credentials in ${ctx.credentials.source}; ${loginHint(ctx)}`,
    );
  }
  if (res.status === 401 || res.status === 403) {
    return err(
      'KILN_REGISTRY_AUTH',
      `registry ${ctx.registry} denied ${ctx.action} access to repository ${ctx.repository} for ${credentialsText(ctx.credentials)} (${status}${said})`,
      `ask the registry's administrator for ${ctx.action} permission on ${ctx.repository}, or use credentials that have it (check the repository name too)`,
    );
  }
  if (res.status === 404) return notFound(ctx, reg?.code, `${status}${said}`, err);
  if (res.status === 429) {
    return err(
      'KILN_REGISTRY_HTTP',
      `registry ${ctx.registry} kept rate limiting ${ctx.action} of ${ctx.object} in ${ctx.repository}: ${status}${tried(attempts)}${said}`,
      'wait before running again; authenticated requests usually get a higher limit, or use a mirror',
    );
  }
  if (res.status >= 500) {
    return err(
      'KILN_REGISTRY_HTTP',
      `registry ${ctx.registry} failed on ${ctx.action} of ${ctx.object} in ${ctx.repository}: ${status}${tried(attempts)}${said}`,
      'the registry itself is failing: check its logs or status page, then run again (pushing again is safe)',
    );
  }
  const hint =
    res.status === 405
      ? 'the registry does not allow this operation (deletes, for one, are often disabled)'
      : res.status === 413
        ? 'the registry refuses objects this large'
        : 'the registry did not accept the request; its error code above says why';
  return err(
    'KILN_REGISTRY_HTTP',
    `registry ${ctx.registry} refused ${ctx.action} of ${ctx.object} in ${ctx.repository}: ${status}${said}`,
    hint,
  );
}

function notFound(
  ctx: CallContext,
  code: string | undefined,
  status: string,
  err: (c: 'KILN_NOT_FOUND', m: string, h: string) => KilnError,
): KilnError {
  const on = `on registry ${ctx.registry}`;
  if (code === 'NAME_UNKNOWN') {
    return err(
      'KILN_NOT_FOUND',
      `repository ${ctx.repository} does not exist ${on} (looking for ${ctx.object}; ${status})`,
      'check the repository name; a repository exists once something was pushed to it',
    );
  }
  if (code === 'BLOB_UPLOAD_UNKNOWN') {
    return err(
      'KILN_NOT_FOUND',
      `the upload of ${ctx.object} to ${ctx.repository} is unknown ${on}: the session expired or the registry restarted (${status})`,
      'run the push again: it starts a new upload',
    );
  }
  const kind = code === 'BLOB_UNKNOWN' ? 'blob' : code === 'MANIFEST_UNKNOWN' ? 'manifest' : '';
  const what = kind !== '' && !ctx.object.startsWith(kind) ? `${kind} (${ctx.object})` : ctx.object;
  return err(
    'KILN_NOT_FOUND',
    `${what} is not in repository ${ctx.repository} ${on} (${status})`,
    'check the reference/digest; it may never have been pushed, or was deleted or garbage-collected',
  );
}

function credentialsText(credentials: RegistryCredentials): string {
  switch (credentials.kind) {
    case 'anonymous':
      return 'anonymous access';
    case 'basic':
      return `user "${clean(credentials.username)}" (credentials from ${credentials.source})`;
    case 'token':
      return `the identity token from ${credentials.source}`;
  }
}

function loginHint(ctx: CallContext): string {
  return `log in with \`docker login ${ctx.registry}\` (Kiln reads ~/.docker/config.json) or set KILN_REGISTRY_USERNAME and KILN_REGISTRY_PASSWORD; the account needs ${ctx.action} access to ${ctx.repository}`;
}

function tried(attempts: number): string {
  return attempts > 1 ? ` (gave up after ${attempts} attempts)` : '';
}

function clean(text: string): string {
  // Control characters (a registry could send ANSI escapes or newlines) become spaces.
  const flat = [...text]
    .map((c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? ' ' : c))
    .join('')
    .replace(/ {2,}/g, ' ')
    .trim();
  // What else could steer a terminal (C1 controls, bidi overrides) is shown escaped, as everywhere.
  return escapeForTerminal(flat.length > 200 ? `${flat.slice(0, 199)}…` : flat);
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  416: 'Range Not Satisfiable',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};
