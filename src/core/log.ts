// The lines a long-running Kiln process (`kiln serve`, `kiln worker`) writes about itself: as text for people
// (`kiln: …`) or as one JSON object per line for log shippers, with the build, job, step and worker a line is about.
// Every line passes through a redactor that knows the secrets the process has read.

/** What a line is about; every field is optional, and only those given are written. */
export interface LogFields {
  readonly level?: 'info' | 'warn' | 'error';
  readonly jobId?: string;
  readonly buildId?: string;
  readonly attempt?: number;
  readonly step?: string | null;
  readonly stream?: string;
  readonly workerId?: string;
  readonly project?: string;
}

/** Writes one line about the process's work. */
export type Log = (message: string, fields?: LogFields) => void;

export type LogFormat = 'text' | 'json';

/** The line `message` is written as, in `format`, by `service` (`kiln-serve`, `kiln-worker`), at `time`. */
export function logLine(
  format: LogFormat,
  service: string,
  time: Date,
  message: string,
  fields: LogFields = {},
): string {
  if (format === 'text') return `kiln: ${message}`;
  const { level = 'info', ...about } = fields;
  return JSON.stringify({ time: time.toISOString(), level, service, msg: message, ...about });
}

/** Secrets shorter than this are not redacted: they would mangle ordinary words (and are refused elsewhere). */
const SHORTEST_SECRET = 6;

/** Replaces every secret it was told about with `[redacted]`, wherever it appears in a text. */
export class Redactor {
  readonly #secrets = new Set<string>();

  /** Remembers `value` (and the forms it is sent in: base64, URL-encoded) as secret. */
  add(value: string): void {
    if (value.length < SHORTEST_SECRET) return;
    for (const form of [value, encodeURIComponent(value), Buffer.from(value).toString('base64')])
      this.#secrets.add(form);
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret containing another is replaced whole.
    for (const s of [...this.#secrets].sort((a, b) => b.length - a.length)) {
      if (out.includes(s)) out = out.split(s).join('[redacted]');
    }
    return out;
  }
}
