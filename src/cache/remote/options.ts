// Remote cache settings checked once, at the boundary: a bad URL or header is a config error, not a silent miss.
import { KilnError } from '../../core/errors.js';

/** How to reach the remote cache and how patient to be with it. */
export interface RemoteCacheOptions {
  /** Base URL; `<url>/ac/<key>` and `<url>/cas/<sha256>` are requested. `user:password@` becomes Basic auth. */
  readonly url: string;
  /** Extra request headers, e.g. Authorization from config or the environment; their values are never logged. */
  readonly headers?: Readonly<Record<string, string>>;
  /** rw uploads what the build produces; r only reads. (A remote that is off gets no client at all.) */
  readonly mode: 'rw' | 'r';
  /** Per-attempt limit for a whole exchange, body included (default 30 s). */
  readonly timeoutMs?: number;
  /** Extra attempts for GET/HEAD after a network error or 5xx (default 2); PUT is retried at most once. */
  readonly retries?: number;
  /** Consecutive failed requests after which the remote is switched off for the build (default 3). */
  readonly maxFailures?: number;
  /** Largest action entry accepted (default 1 MiB). */
  readonly maxActionBytes?: number;
  /** Largest blob read into memory by getBlob (default 64 MiB); use getBlobToFile for bigger ones. */
  readonly maxBlobBytes?: number;
  /** Largest blob streamed to disk by getBlobToFile (default 16 GiB). */
  readonly maxFileBytes?: number;
  /** Minimum time between two warnings of the same kind (default 60 s). */
  readonly warnIntervalMs?: number;
  readonly fetch?: typeof fetch;
  readonly onWarning?: (message: string) => void;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Options with defaults applied and the URL split into a credential-free base, a label and auth headers. */
export interface ResolvedRemoteOptions {
  readonly base: string;
  readonly label: string;
  readonly urlSecrets: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  readonly mode: 'rw' | 'r';
  readonly timeoutMs: number;
  readonly retries: number;
  readonly maxFailures: number;
  readonly maxActionBytes: number;
  readonly maxBlobBytes: number;
  readonly maxFileBytes: number;
  readonly warnIntervalMs: number;
  readonly fetch: typeof fetch;
  readonly onWarning: (message: string) => void;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

const MiB = 1024 * 1024;

/** Validates the options (all problems at once, as KILN_CACHE_REMOTE) and fills in production defaults. */
export function resolveRemoteOptions(opts: RemoteCacheOptions): ResolvedRemoteOptions {
  const problems: string[] = [];
  const url = parseUrl(opts.url, problems);
  const headers: Record<string, string> = {};
  const urlSecrets: string[] = [];
  if (url !== undefined && (url.username !== '' || url.password !== '')) {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    urlSecrets.push(url.password, password);
    url.username = '';
    url.password = '';
  }
  for (const [name, value] of Object.entries(opts.headers ?? {})) {
    try {
      new Headers([[name, value]]);
      headers[name.toLowerCase()] = value;
    } catch {
      problems.push(`header ${JSON.stringify(name)} has an invalid name or value (value not shown)`);
    }
  }
  if (opts.mode !== 'rw' && opts.mode !== 'r') problems.push(`mode must be rw or r, got ${JSON.stringify(opts.mode)}`);
  const num = (name: string, value: number | undefined, fallback: number, min: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < min) problems.push(`${name} must be an integer ≥ ${min}, got ${value}`);
    return value;
  };
  const resolved: ResolvedRemoteOptions = {
    base: url === undefined ? '' : url.href.endsWith('/') ? url.href : `${url.href}/`,
    label: url === undefined ? '' : url.href.replace(/\/$/, ''),
    urlSecrets,
    headers: Object.freeze(headers),
    mode: opts.mode,
    timeoutMs: num('timeoutMs', opts.timeoutMs, 30_000, 1),
    retries: num('retries', opts.retries, 2, 0),
    maxFailures: num('maxFailures', opts.maxFailures, 3, 1),
    maxActionBytes: num('maxActionBytes', opts.maxActionBytes, MiB, 1),
    maxBlobBytes: num('maxBlobBytes', opts.maxBlobBytes, 64 * MiB, 1),
    maxFileBytes: num('maxFileBytes', opts.maxFileBytes, 16 * 1024 * MiB, 1),
    warnIntervalMs: num('warnIntervalMs', opts.warnIntervalMs, 60_000, 0),
    fetch: opts.fetch ?? globalThis.fetch,
    onWarning: opts.onWarning ?? (() => undefined),
    now: opts.now ?? Date.now,
    sleep: opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
  };
  if (problems.length > 0) {
    throw new KilnError('KILN_CACHE_REMOTE', `remote cache settings are invalid: ${problems.join('; ')}`, {
      hint: 'set the remote cache URL to http(s)://host[:port][/prefix] and give headers as NAME: VALUE',
      details: { problems },
    });
  }
  return Object.freeze(resolved);
}

function parseUrl(raw: string, problems: string[]): URL | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`URL ${JSON.stringify(withoutUserinfo(raw))} is not a valid URL`);
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push(`URL scheme must be http or https, got ${JSON.stringify(url.protocol.replace(/:$/, ''))}`);
    return undefined;
  }
  if (url.search !== '' || url.hash !== '') {
    problems.push('URL must not have a query or fragment (the cache paths are appended to it)');
    return undefined;
  }
  return url;
}

/** The URL text with any `user:password@` part masked, for messages about URLs that do not even parse. */
function withoutUserinfo(raw: string): string {
  return raw.replace(/\/\/[^/@]*@/, '//[redacted]@');
}
