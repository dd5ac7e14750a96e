// The log of one attempt at a job, written to the shared store as the build runs, so the API can stream it whichever
// machine runs the build. It listens to the build's own event stream (the lines the CLI shows, with what their
// emitters already redacted), batches lines, and never slows or fails the build: a store error is logged once and the
// build goes on; a runaway step is cut off at a cap, with a last line that says so.

import type { Insertable } from 'kysely';
import { type EventListener, type KilnEvent, stepRetryText, type TimedEvent } from '../core/events.js';
import type { Log } from '../core/log.js';
import { appendLogLines, type BuildLogsTable, type LogQuery, readLogLines, type Store } from '../store/index.js';

/** A log line before it is numbered: its step (null for the build's own lines), stream and text. */
export interface LogLine {
  readonly step: string | null;
  readonly stream: BuildLogsTable['stream'];
  readonly text: string;
}

/** Where and how an attempt's log is written. */
export interface AttemptLogOptions {
  readonly store: Store;
  readonly jobId: string;
  readonly attempt: number;
  /** Told (once) when the store refuses lines. */
  readonly log?: Log | undefined;
  /** Also given every line, with the job, attempt, step and worker it is about (`--log-format json`). */
  readonly echo?: Log | undefined;
  /** The worker running the attempt, for `echo`. */
  readonly workerId?: string | undefined;
  /** Lines wait at most this long before they are written (default 250 ms)… */
  readonly flushMs?: number | undefined;
  /** …or until this many are waiting (default 200). */
  readonly batchLines?: number | undefined;
  /** The most lines an attempt keeps (default 50,000), and the most characters (default 8,000,000). */
  readonly maxLines?: number | undefined;
  readonly maxChars?: number | undefined;
  /** The longest a flush waits for the store (default 10 s): a stuck store must not hold the job's end. */
  readonly flushTimeoutMs?: number | undefined;
}

/** An attempt's log: the listener to give the build, and the flush to await once it ended (never throws). */
export interface AttemptLog {
  readonly listener: EventListener;
  flush(): Promise<void>;
}

/** The log writer of one attempt at a job. */
export function attemptLog(opts: AttemptLogOptions): AttemptLog {
  const flushMs = opts.flushMs ?? 250;
  const batchLines = opts.batchLines ?? 200;
  const maxLines = opts.maxLines ?? 50_000;
  const maxChars = opts.maxChars ?? 8_000_000;
  let pending: Insertable<BuildLogsTable>[] = [];
  let seq = 0;
  let chars = 0;
  let truncated = false;
  let closed = false;
  let failed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let writing: Promise<void> = Promise.resolve();

  const write = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    writing = writing.then(() =>
      appendLogLines(opts.store, batch).catch((err: unknown) => {
        if (!failed) {
          opts.log?.(
            `job ${opts.jobId} attempt ${opts.attempt}: cannot store its log lines (${String(err)}); the build goes on, lines are lost`,
          );
        }
        failed = true;
      }),
    );
  };
  const add = (line: LogLine, at: string) => {
    if (truncated) return;
    if (seq + 1 >= maxLines || chars + line.text.length > maxChars) {
      truncated = true;
      const limit = seq + 1 >= maxLines ? `${maxLines} lines` : `${maxChars} characters`;
      const text = `log truncated: only the first ${limit} of this attempt are kept`;
      pending.push({ ...row(line.step, 'kiln', text, at), seq: ++seq });
      write();
      return;
    }
    chars += line.text.length;
    pending.push({ ...row(line.step, line.stream, line.text, at), seq: ++seq });
    opts.echo?.(line.text, {
      jobId: opts.jobId,
      attempt: opts.attempt,
      step: line.step,
      stream: line.stream,
      ...(opts.workerId ? { workerId: opts.workerId } : {}),
    });
    if (pending.length >= batchLines) write();
    else timer ??= setTimeout(write, flushMs);
  };
  const row = (step: string | null, stream: LogLine['stream'], text: string, at: string) => ({
    job_id: opts.jobId,
    attempt: opts.attempt,
    step,
    stream,
    text,
    at,
  });

  return {
    listener(event: TimedEvent) {
      if (closed) return;
      try {
        const line = logLineOf(event);
        if (line) add(line, event.at);
      } catch (err) {
        opts.log?.(`job ${opts.jobId}: a log line was dropped: ${String(err)}`); // a listener must not throw
      }
    },
    async flush() {
      closed = true;
      write();
      let giveUp: ReturnType<typeof setTimeout> | undefined;
      const waited = await Promise.race([
        writing.then(() => true),
        new Promise<false>((resolve) => {
          giveUp = setTimeout(() => resolve(false), opts.flushTimeoutMs ?? 10_000);
        }),
      ]);
      clearTimeout(giveUp);
      if (!waited) {
        opts.log?.(`job ${opts.jobId} attempt ${opts.attempt}: the store took too long to take its last log lines`);
      }
    },
  };
}

/** The log line an event stands for, as the CLI's display says it; undefined for events only machines read. */
export function logLineOf(event: KilnEvent): LogLine | undefined {
  const kiln = (text: string, step: string | null = null): LogLine => ({ step, stream: 'kiln', text });
  switch (event.kind) {
    case 'step-output':
      return { step: event.step, stream: event.stream, text: event.line };
    case 'step-started':
      return kiln(`step ${event.step} started`, event.step);
    case 'step-finished': {
      const code = event.exitCode === null ? '' : ` (exit ${event.exitCode})`;
      const secs = (event.durationMs / 1000).toFixed(1);
      if (event.status === 'cached')
        return kiln(`step ${event.step} cached (from build ${event.cachedFrom})`, event.step);
      if (event.status === 'skipped') return kiln(`step ${event.step} skipped`, event.step);
      return kiln(`step ${event.step} ${event.status} in ${secs}s${code}`, event.step);
    }
    case 'step-retry':
      return kiln(stepRetryText(event), event.step);
    case 'build-started':
      return kiln(`building ${event.project} at ${event.commit.slice(0, 12)} as ${event.buildId}`);
    case 'build-reused':
      return kiln(`up to date: build ${event.buildId} already built ${event.commit.slice(0, 12)}`);
    case 'build-finished':
      return kiln(`build ${event.buildId} ${event.status} in ${(event.durationMs / 1000).toFixed(1)}s`);
    case 'stage':
      return kiln(`${event.stage}: ${event.detail}`);
    case 'notice':
      return kiln(event.message);
    case 'warning':
      return kiln(`warning: ${event.message}`);
    case 'cache-lookup':
    case 'cache-stored':
    case 'registry-request':
    case 'artifact-published':
    case 'signature-verified':
    case 'gc-action':
    case 'progress':
    case 'error':
      return undefined;
    default:
      return event satisfies never;
  }
}

/** A stored log line as the API streams it: `attempt` and `seq` place it (the SSE id is `attempt:seq`). */
export interface StoredLogLine extends LogLine {
  readonly attempt: number;
  readonly seq: number;
  readonly at: string;
}

/** A job's stored lines after `after`, in order, of one step if asked (at most `limit`). */
export async function jobLogLines(store: Store, jobId: string, query: LogQuery): Promise<StoredLogLine[]> {
  const rows = await readLogLines(store, jobId, query);
  return rows.map((r) => ({ attempt: r.attempt, seq: r.seq, step: r.step, stream: r.stream, text: r.text, at: r.at }));
}
