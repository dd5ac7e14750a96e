// The shared state of one registry client: endpoint, authenticator, retry policy, and one-request helpers.
import type { EventSink } from '../../core/events.js';
import { createAuthenticator } from './auth.js';
import { resolveCredentials } from './credentials.js';
import { type CallContext, connectionFailure, isTransientStatus, transientResponse } from './failures.js';
import { ConnectionError, type HttpExchange, type HttpRequest, type HttpResponse, registryEndpoint } from './http.js';
import { DEFAULT_RETRY, type RetryDeps, type RetryPolicy, retrying } from './retry.js';
import type { RegistryCredentials } from './types.js';

/** Options of `createRegistryClient`; every effect is injectable, defaults are the real ones. */
export interface RegistryClientOptions {
  /** `host[:port]`, or `https://host[:port]` / `http://host[:port]` to choose the scheme explicitly. */
  readonly registry: string;
  /** Default: resolved from `env` (flags are the caller's business), else anonymous. */
  readonly credentials?: RegistryCredentials;
  /** Allow plain http to a host that is not loopback (an explicit --insecure-registry). */
  readonly insecure?: boolean;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
  /** Used for credentials (KILN_REGISTRY_*, DOCKER_CONFIG, HOME) when `credentials` is not given. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly retry?: Partial<RetryPolicy>;
  /** Blobs larger than this are uploaded in PATCH chunks of this size (default 8 MiB). */
  readonly chunkSize?: number;
  /** Per-request timeout (default 120 s); a timeout counts as a connection failure and is retried. */
  readonly timeoutMs?: number;
  /** Receives a `registry-request` event per attempt (status, bytes, duration), for logs and metrics. */
  readonly onEvent?: EventSink;
}

/** What the client's operations share. */
export interface Session {
  readonly registry: string;
  readonly origin: string;
  readonly credentials: RegistryCredentials;
  readonly chunkSize: number;
  readonly now: () => number;
  /** Absolute URL of a registry API path such as `/v2/team/app/tags/list`. */
  url(path: string): string;
  /**
   * One authenticated request (`attempt` says which try of it this is, for events); 429/5xx/connection failures become
   * TransientFailure, other answers are returned.
   */
  attempt(
    req: HttpRequest,
    scopes: readonly string[],
    ctx: CallContext,
    maxBytes?: number,
    attempt?: number,
  ): Promise<HttpResponse>;
  /** `attempt`, retried with backoff. */
  request(req: HttpRequest, scopes: readonly string[], ctx: CallContext, maxBytes?: number): Promise<HttpResponse>;
  /** Runs a multi-request unit (an upload) with retries; a TransientFailure anywhere restarts it. */
  retrying<T>(unit: (attempt: number) => Promise<T>): Promise<T>;
  /** The context of an operation on `repository`, for error messages. */
  context(repository: string, action: CallContext['action'], object: string): CallContext;
}

const DEFAULT_CHUNK = 8 << 20;
const SMALL_BODY = 1 << 20;

/** Builds the session; throws KILN_USAGE (before any request) for a bad registry name or disallowed plain http. */
export function createSession(opts: RegistryClientOptions): Session {
  const insecure = opts.insecure ?? false;
  const endpoint = registryEndpoint(opts.registry, insecure);
  const credentials =
    opts.credentials ??
    (opts.env
      ? resolveCredentials({ registry: endpoint.host, env: opts.env })
      : { kind: 'anonymous', source: 'none given' });
  const now = opts.now ?? Date.now;
  const retry: RetryDeps = {
    policy: { ...DEFAULT_RETRY, ...opts.retry },
    sleep: opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    random: opts.random ?? Math.random,
  };
  const auth = createAuthenticator({
    origin: endpoint.origin,
    credentials,
    now,
    transport: { fetch: opts.fetch ?? fetch, insecure, registry: endpoint.host, timeoutMs: opts.timeoutMs ?? 120_000 },
  });
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1)
    throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);

  const emit = opts.onEvent ?? (() => {});
  const attempt: Session['attempt'] = async (req, scopes, ctx, maxBytes = SMALL_BODY, n = 1) => {
    const onExchange = (x: HttpExchange) => {
      const url = new URL(x.url);
      const bytes = x.sent + x.received;
      const { method, status, durationMs } = x;
      emit({
        kind: 'registry-request',
        registry: url.host,
        method,
        path: url.pathname,
        status,
        attempt: n,
        bytes,
        durationMs,
      });
    };
    let res: HttpResponse;
    try {
      res = await auth.send(req, scopes, ctx, maxBytes, opts.onEvent ? onExchange : undefined);
    } catch (err) {
      throw err instanceof ConnectionError ? connectionFailure(err, ctx, endpoint.origin) : err;
    }
    if (isTransientStatus(res.status)) throw transientResponse(res, ctx, now());
    return res;
  };
  const session: Session = {
    registry: endpoint.host,
    origin: endpoint.origin,
    credentials,
    chunkSize,
    now,
    url: (path: string) => `${endpoint.origin}${path}`,
    attempt,
    request: (req, scopes, ctx, maxBytes) => retrying((n) => attempt(req, scopes, ctx, maxBytes, n), retry),
    retrying: <T>(unit: (attempt: number) => Promise<T>) => retrying(unit, retry),
    context: (repository, action, object) => ({ registry: endpoint.host, repository, action, object, credentials }),
  };
  return Object.freeze(session);
}

/** Token scope for `actions` on a repository (distribution token scope grammar). */
export function repositoryScope(repository: string, actions: string): string {
  return `repository:${repository}:${actions}`;
}
