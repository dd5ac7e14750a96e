// The one place requests leave Kiln: scheme policy, manual redirects (credentials never cross origins), bounded bodies.
import { KilnError } from '../../core/errors.js';

/** A request as the client builds it; bodies are whole buffers so a request can be sent again unchanged. */
export interface HttpRequest {
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
}

/** A response with its body read (HEAD: empty), and the URL it finally came from. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  readonly url: string;
}

/** One HTTP exchange as it happened, for events: `status` null when no answer came. */
export interface HttpExchange {
  readonly method: string;
  readonly url: string;
  readonly status: number | null;
  readonly sent: number;
  readonly received: number;
  readonly durationMs: number;
}

/** A request that never got an HTTP answer: refused, reset, timed out, TLS failure … `code` names the cause. */
export class ConnectionError extends Error {
  readonly code: string;

  constructor(code: string, cause: unknown) {
    super(`connection failed: ${code}`, { cause });
    this.name = 'ConnectionError';
    this.code = code;
  }
}

/** Where a registry is spoken to: `origin` is `scheme://host[:port]`, `host` is the name as the user wrote it. */
export interface RegistryEndpoint {
  readonly host: string;
  readonly origin: string;
}

/**
 * The endpoint of `registry` (`host[:port]`, or with an explicit `https://` / `http://`). Without a scheme, loopback
 * hosts and `insecure` registries get plain http, everything else https; an explicit `http://` to any other host is
 * refused unless `insecure`, before any request is made.
 */
export function registryEndpoint(registry: string, insecure: boolean): RegistryEndpoint {
  const match =
    /^(https?):\/\/([^/?#]+)\/?$/i.exec(registry) ?? /^()([^/?#:]+(?::\d+)?|\[[0-9a-f:.]+\](?::\d+)?)$/i.exec(registry);
  if (!match) invalidRegistry(registry);
  const host = (match[2] ?? '').toLowerCase();
  const scheme = (match[1] ?? '').toLowerCase() || (insecure || isLoopbackHost(host) ? 'http' : 'https');
  // Docker Hub is named docker.io but serves the API on registry-1.docker.io (as the docker CLI resolves it).
  const apiHost = host === 'docker.io' || host === 'index.docker.io' ? 'registry-1.docker.io' : host;
  const origin = `${scheme}://${apiHost}`;
  if (resolveUrl(origin, '') === undefined) invalidRegistry(registry);
  assertAllowedUrl(origin, insecure, host);
  return Object.freeze({ host, origin });
}

/** `location` resolved against `base` (absolute when `base` is ''); undefined when it is not a valid URL. */
export function resolveUrl(location: string, base: string): string | undefined {
  try {
    return (base === '' ? new URL(location) : new URL(location, base)).href;
  } catch {
    return undefined;
  }
}

function invalidRegistry(registry: string): never {
  throw new KilnError(
    'KILN_USAGE',
    `registry "${registry.slice(0, 100)}" is not a host[:port] (optionally with http(s)://)`,
    {
      hint: 'name the registry like ghcr.io or 127.0.0.1:5000, without a path',
    },
  );
}

/** Throws KILN_USAGE when `url` is plain http to a host that is not loopback and the registry was not marked insecure. */
export function assertAllowedUrl(url: string, insecure: boolean, registry: string): void {
  const parsed = new URL(url);
  if (parsed.protocol === 'https:') return;
  if (parsed.protocol === 'http:' && (insecure || isLoopbackHost(parsed.host))) return;
  throw new KilnError(
    'KILN_USAGE',
    `refusing ${parsed.protocol}//${parsed.host} for registry ${registry}: plain http is only used for loopback addresses`,
    {
      hint: `use https, or pass --insecure-registry ${registry} if this registry really has no TLS`,
    },
  );
}

/** True for `localhost`, 127.0.0.0/8 and ::1 (with or without a port). */
export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/:\d+$/, '').toLowerCase();
  if (name === 'localhost' || name === '[::1]') return true;
  const octets = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(name);
  return octets?.slice(1).every((o) => Number(o) <= 255) ?? false;
}

/** How to send: the injected fetch, the scheme policy, a per-request timeout, and a cap on the body read. */
export interface SendOptions {
  readonly fetch: typeof fetch;
  readonly insecure: boolean;
  readonly registry: string;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** `Authorization` value, sent only to `authOrigin` (never to a redirect target elsewhere). */
  readonly authorization?: string | undefined;
  readonly authOrigin?: string | undefined;
  /** Told of every exchange (each redirect hop, each token request), answered or not. */
  readonly onExchange?: ((exchange: HttpExchange) => void) | undefined;
}

const MAX_REDIRECTS = 5;

/** Sends one request, following up to 5 redirects by hand, and reads the body (at most `maxBytes`). */
export async function send(req: HttpRequest, opts: SendOptions): Promise<HttpResponse> {
  let { method, url, body } = req;
  for (let hop = 0; ; hop++) {
    assertAllowedUrl(url, opts.insecure, opts.registry);
    const headers: Record<string, string> = { ...req.headers };
    if (opts.authorization !== undefined && new URL(url).origin === opts.authOrigin) {
      headers.Authorization = opts.authorization;
    }
    const started = performance.now();
    const exchange = (status: number | null, received: number) =>
      opts.onExchange?.({
        method,
        url,
        status,
        sent: body?.length ?? 0,
        received,
        durationMs: Math.round(performance.now() - started),
      });
    const res = await fetchOnce(opts, url, { method, headers, ...(body === undefined ? {} : { body }) }).catch(
      (err: unknown) => {
        exchange(null, 0);
        throw err;
      },
    );
    const location = res.headers.get('location');
    if (!isRedirect(res.status) || location === null) {
      const read = await readBody(res, method, opts).catch((err: unknown) => {
        exchange(err instanceof ConnectionError ? null : res.status, 0);
        throw err;
      });
      exchange(res.status, read.length);
      return { status: res.status, headers: res.headers, url, body: read };
    }
    exchange(res.status, 0);
    await res.body?.cancel();
    if (hop >= MAX_REDIRECTS) {
      throw new KilnError(
        'KILN_REGISTRY_HTTP',
        `registry ${opts.registry} redirected more than ${MAX_REDIRECTS} times`,
        {
          hint: 'the registry or a proxy in front of it is misconfigured (a redirect loop)',
        },
      );
    }
    const next = resolveUrl(location, url);
    if (next === undefined) {
      throw new KilnError('KILN_REGISTRY_HTTP', `registry ${opts.registry} redirected to an invalid URL`, {
        hint: 'the registry or a proxy in front of it sends a malformed Location header',
      });
    }
    url = next;
    if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
    }
  }
}

async function fetchOnce(opts: SendOptions, url: string, init: RequestInit): Promise<Response> {
  try {
    return await opts.fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(opts.timeoutMs) });
  } catch (err) {
    throw new ConnectionError(connectionCode(err), err);
  }
}

async function readBody(res: Response, method: string, opts: SendOptions): Promise<Buffer> {
  if (method === 'HEAD' || res.body === null) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body) {
      total += chunk.length;
      if (total > opts.maxBytes) {
        await res.body.cancel().catch(() => undefined);
        throw new KilnError('KILN_REGISTRY_HTTP', `registry ${opts.registry} sent more than ${opts.maxBytes} bytes`, {
          hint: 'the answer is larger than Kiln accepts for this kind of object; check the reference',
        });
      }
      chunks.push(Buffer.from(chunk));
    }
  } catch (err) {
    if (err instanceof KilnError) throw err;
    throw new ConnectionError(connectionCode(err), err);
  }
  return Buffer.concat(chunks);
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** The most specific code of a fetch failure: `ECONNREFUSED`, `UND_ERR_SOCKET`, `TimeoutError` … */
function connectionCode(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'TimeoutError';
    const cause = err.cause as { code?: unknown; errors?: unknown } | undefined;
    if (cause && typeof cause.code === 'string') return cause.code;
    if (cause && Array.isArray(cause.errors)) {
      const first = cause.errors.find(
        (e): e is { code: string } => typeof (e as { code?: unknown })?.code === 'string',
      );
      if (first) return first.code;
    }
    const own = (err as Error & { code?: unknown }).code;
    if (typeof own === 'string') return own;
  }
  return 'UNKNOWN';
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'TimeoutError',
]);

/** True for connection failures that another attempt may not hit (not DNS "no such host", not TLS failures). */
export function isTransientConnection(err: ConnectionError): boolean {
  return TRANSIENT_CODES.has(err.code);
}
