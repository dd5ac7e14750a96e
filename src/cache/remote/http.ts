// One HTTP exchange with the remote cache: a timeout per attempt, bounded retries with backoff, failures as data.
import type { RemoteFailure } from './health.js';

/** Everything an exchange needs that does not change between requests. */
export interface HttpSettings {
  /** Base URL ending in `/`, without credentials. */
  readonly base: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly fetch: typeof fetch;
  readonly sleep: (ms: number) => Promise<void>;
}

/** What a PUT sends: bytes in memory or a stream (a file). */
export type UploadBody = Uint8Array | ReadableStream<Uint8Array>;

/** One request; `body` is a factory so that a retried upload starts from the first byte again. */
export interface HttpRequest {
  readonly method: 'GET' | 'HEAD' | 'PUT';
  /** Path below the base, e.g. `cas/<hex>`. */
  readonly path: string;
  /** Total attempts (1 = no retry). */
  readonly attempts: number;
  readonly body?: () => UploadBody;
  readonly contentLength?: number;
}

/** The result of an exchange: the handler's value for a 2xx, a 404, or why no answer came. */
export type HttpOutcome<T> =
  | { readonly kind: 'ok'; readonly value: T }
  | { readonly kind: 'missing' }
  | { readonly kind: 'failed'; readonly failure: RemoteFailure };

/** A local problem (disk full, permissions) raised inside a response handler; it is not the server's fault. */
export class LocalIoError extends Error {
  constructor(cause: unknown) {
    super(`local I/O failed: ${errorText(cause)}`, { cause });
    this.name = 'LocalIoError';
  }
}

const BACKOFF_MS = [50, 200, 500, 1000];

/** Runs a request with retries; `onOk` reads a 2xx body under the same timeout (its network errors are retried too). */
export async function exchange<T>(
  s: HttpSettings,
  req: HttpRequest,
  onOk: (res: Response) => Promise<T>,
): Promise<HttpOutcome<T>> {
  let failure: RemoteFailure = { kind: 'unreachable', detail: 'no attempt made', retryable: false };
  for (let attempt = 0; attempt < Math.max(1, req.attempts); attempt++) {
    if (attempt > 0) await s.sleep(BACKOFF_MS[Math.min(attempt - 1, BACKOFF_MS.length - 1)] ?? 1000);
    const signal = AbortSignal.timeout(s.timeoutMs);
    const body = req.body?.();
    try {
      const res = await s.fetch(new URL(req.path, s.base), init(s, req, body, signal));
      if (res.status === 404) {
        await discard(res);
        return { kind: 'missing' };
      }
      if (res.status >= 200 && res.status < 300) return { kind: 'ok', value: await onOk(res) };
      await discard(res);
      failure = statusFailure(res.status, res.statusText);
    } catch (err) {
      if (err instanceof LocalIoError) throw err;
      failure = signal.aborted
        ? { kind: 'timeout', detail: `no complete answer within ${s.timeoutMs} ms`, retryable: false }
        : { kind: 'unreachable', detail: errorText(err), retryable: true };
    }
    // An upload stream that fetch never consumed still holds its file open.
    if (body instanceof ReadableStream && !body.locked) await body.cancel().catch(() => undefined);
    if (!failure.retryable) break;
  }
  return { kind: 'failed', failure };
}

function init(s: HttpSettings, req: HttpRequest, body: UploadBody | undefined, signal: AbortSignal): RequestInit {
  const headers: Record<string, string> = { ...s.headers };
  const out: RequestInit & { duplex?: 'half' } = { method: req.method, headers, signal, redirect: 'manual' };
  if (body !== undefined) {
    headers['content-type'] = 'application/octet-stream';
    if (req.contentLength !== undefined) headers['content-length'] = String(req.contentLength);
    out.body = body as RequestInit['body'];
    if (!(body instanceof Uint8Array)) out.duplex = 'half';
  }
  return out;
}

/** Classifies an HTTP status that is neither 2xx nor 404. */
export function statusFailure(status: number, statusText: string): RemoteFailure {
  const detail = `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
  if (status === 401 || status === 403 || status === 407) return { kind: 'auth', detail, status, retryable: false };
  if (status >= 300 && status < 400)
    return { kind: 'http', detail: `${detail} (redirects are not followed)`, status, retryable: false };
  return { kind: 'http', detail, status, retryable: status >= 500 || status === 429 || status === 408 };
}

/** Drops a response body we do not want, so the connection can be reused. */
export async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // Nothing to clean up when the body is already gone.
  }
}

/** A short, secret-free description of an error: fetch's own message plus its low-level cause. */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return `${err.message}: ${code !== undefined && !cause.message.includes(code) ? `${code} ` : ''}${cause.message}`;
  }
  return err.message;
}
