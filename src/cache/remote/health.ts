// Keeps a failing remote cache cheap: a few failures switch it off for the build, with one warning, not one per blob.

/** Why one request to the remote cache did not produce an answer. */
export interface RemoteFailure {
  /** unreachable: no connection; timeout: no answer in time; auth: 401/403/407; http: any other bad status. */
  readonly kind: 'unreachable' | 'timeout' | 'auth' | 'http';
  /** Human text such as `503 Service Unavailable` or `connect ECONNREFUSED 127.0.0.1:9`; never holds secrets. */
  readonly detail: string;
  readonly status?: number;
  /** True when trying again may help (network errors, 5xx, 429). */
  readonly retryable: boolean;
}

/** Emits a warning of a given kind, at most once per interval per kind (the rest are counted and summarised). */
export type WarnFn = (kind: string, message: string) => void;

/** A warning sink that redacts secrets, never throws, and rate-limits each kind of warning. */
export function warningGate(opts: {
  readonly onWarning: (message: string) => void;
  readonly now: () => number;
  readonly intervalMs: number;
  readonly secrets: readonly string[];
}): WarnFn {
  const last = new Map<string, { at: number; suppressed: number }>();
  const secrets = [...new Set(opts.secrets.filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length);
  return (kind, message) => {
    const t = opts.now();
    const seen = last.get(kind);
    if (seen !== undefined && t - seen.at < opts.intervalMs) {
      seen.suppressed += 1;
      return;
    }
    const extra = seen !== undefined && seen.suppressed > 0 ? ` (${seen.suppressed} similar warnings suppressed)` : '';
    last.set(kind, { at: t, suppressed: 0 });
    try {
      opts.onWarning(redact(message + extra, secrets));
    } catch {
      // A broken warning sink must not turn a cache problem into a build failure.
    }
  };
}

/** Replaces every secret in `text` with `[redacted]`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('[redacted]');
  return out;
}

/** The secret parts of request headers: each value, the token after an auth scheme, decoded Basic credentials. */
export function headerSecrets(headers: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const value of Object.values(headers)) {
    out.push(value);
    const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(value);
    if (m?.[2] === undefined) continue;
    out.push(m[2]);
    if (m[1]?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(m[2], 'base64').toString('utf8');
      out.push(decoded, decoded.slice(decoded.indexOf(':') + 1));
    }
  }
  return out;
}

/** Whether the remote may still be read and written during this build, and the bookkeeping that decides it. */
export interface RemoteHealth {
  readonly readable: () => boolean;
  readonly writable: () => boolean;
  /** The server answered sensibly (a hit or a 404): the run of failures is over. */
  readonly succeeded: () => void;
  /** A request failed after its retries; may switch the remote off for the rest of the build. */
  readonly failed: (op: string, failure: RemoteFailure) => void;
  /** The server refuses writes (no PUT support, read-only credentials): stop uploading, keep reading. */
  readonly writeRefused: (op: string, failure: RemoteFailure) => void;
}

/** Tracks consecutive failures; unreachable or unauthorised switches off at once, other failures after `maxFailures`. */
export function remoteHealth(opts: {
  readonly label: string;
  readonly maxFailures: number;
  readonly warn: WarnFn;
}): RemoteHealth {
  let available = true;
  let writes = true;
  let consecutive = 0;
  const { label, warn } = opts;
  return {
    readable: () => available,
    writable: () => available && writes,
    succeeded: () => {
      consecutive = 0;
    },
    failed: (op, failure) => {
      if (!available) return;
      consecutive += 1;
      const trip = failure.kind === 'unreachable' || failure.kind === 'auth' || consecutive >= opts.maxFailures;
      if (!trip) {
        warn(
          failure.kind,
          `remote cache ${label}: ${op} failed (${failure.detail}); treated as a miss${hintFor(failure)}`,
        );
        return;
      }
      available = false;
      const why =
        failure.kind === 'unreachable'
          ? `is unreachable (${op}: ${failure.detail})`
          : failure.kind === 'auth'
            ? `refused access (${op}: ${failure.detail})`
            : `failed ${consecutive} times in a row (last: ${op}: ${failure.detail})`;
      warn(
        'unavailable',
        `remote cache ${label} ${why}; continuing without it for the rest of this build (builds are only slower)${hintFor(failure)}`,
      );
    },
    writeRefused: (op, failure) => {
      if (!writes || !available) return;
      writes = false;
      warn(
        'write-refused',
        `remote cache ${label} refused a write (${op}: ${failure.detail}); not uploading for the rest of this build` +
          '; hint: use remote:r when these credentials or this server are read-only',
      );
    },
  };
}

function hintFor(failure: RemoteFailure): string {
  switch (failure.kind) {
    case 'auth':
      return '; hint: check the remote cache auth header (the credentials are missing, wrong or lack permission)';
    case 'timeout':
      return '; hint: raise the remote cache timeout if the server is only slow';
    case 'unreachable':
      return '; hint: check the remote cache URL and that the server is running';
    case 'http':
      return '';
  }
}
