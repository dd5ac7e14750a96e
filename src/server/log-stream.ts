// A job's log as Server-Sent Events (GET /v1/builds/{id}/logs): the stored lines after a cursor as `log` events, polled
// for while the job runs, then one `end` event; the stream stops when the client goes away.
import type { SSEStreamingApi } from 'hono/streaming';
import { isKilnError, KilnError } from '../core/errors.js';

/** A place in a job's log: line `seq` of attempt `attempt` (the SSE id `attempt:seq`). */
export interface LogCursor {
  readonly attempt: number;
  readonly seq: number;
}

/** A stored line as the stream sends it: its place, then the event's data. */
export interface StreamedLine extends LogCursor {
  readonly step: string | null;
  readonly stream: string;
  readonly text: string;
  readonly at: string;
}

/** Lines read from the store at once by a log stream. */
const LOG_PAGE = 500;
/** A job status after which no line is written. */
const ENDED: ReadonlySet<string> = new Set(['succeeded', 'failed', 'blocked', 'cancelled', 'lost']);
/** How long a log stream may stay silent before it sends a comment (proxies close idle connections). */
const KEEP_ALIVE_MS = 15_000;

/** The `attempt:seq` of a `Last-Event-ID` header; a malformed one is a bad request. */
export function lastEventId(header: string | undefined): LogCursor | undefined {
  if (header === undefined || header === '') return undefined;
  const match = /^(\d{1,9}):(\d{1,12})$/.exec(header.trim());
  if (!match) {
    throw new KilnError('KILN_BAD_REQUEST', `bad Last-Event-ID "${header.slice(0, 40)}": expected ATTEMPT:SEQ`, {
      hint: 'send back the id of the last `log` event received, or no Last-Event-ID to start from the first line',
    });
  }
  return { attempt: Number(match[1]), seq: Number(match[2]) };
}

/**
 * Sends a job's lines after `after` as `log` events, polling for new ones while the job runs, then one `end` event
 * with its status once it ended (its worker flushed its lines before ending it, so none is missed); stops when the
 * client goes away.
 */
export async function streamLogs(
  stream: SSEStreamingApi,
  opts: {
    /** At most `limit` lines after `after`, in order. */
    read: (after: LogCursor | undefined, limit: number) => Promise<readonly StreamedLine[]>;
    status: () => Promise<string | undefined>;
    after: LogCursor | undefined;
    pollMs: number;
    /** Waits between looks (at most `pollMs`); the stream's sleep when absent. */
    wait?: ((ms: number) => Promise<void>) | undefined;
    onBug?: ((err: unknown) => void) | undefined;
  },
): Promise<void> {
  let cursor = opts.after;
  let sent = Date.now();
  try {
    while (!stream.aborted) {
      const status = await opts.status(); // before the read: lines of an ended job are all stored by then
      const lines = await opts.read(cursor, LOG_PAGE);
      for (const { attempt, seq, step, stream: from, text, at } of lines) {
        const data = JSON.stringify({ attempt, step, stream: from, text, at });
        await stream.writeSSE({ event: 'log', id: `${attempt}:${seq}`, data });
        cursor = { attempt, seq };
        sent = Date.now();
      }
      if (lines.length === LOG_PAGE) continue;
      if (status === undefined || ENDED.has(status)) {
        await stream.writeSSE({ event: 'end', data: JSON.stringify({ status: status ?? 'lost' }) });
        return;
      }
      if (Date.now() - sent > KEEP_ALIVE_MS) {
        await stream.write(': still running\n\n');
        sent = Date.now();
      }
      await (opts.wait ? opts.wait(opts.pollMs) : stream.sleep(opts.pollMs));
    }
  } catch (err) {
    if (!isKilnError(err)) opts.onBug?.(err);
    const error = isKilnError(err)
      ? { code: err.code, message: err.message, hint: err.hint ?? null }
      : { code: 'KILN_BUG', message: 'internal error (logged by the server)', hint: null };
    await stream.writeSSE({ event: 'error', data: JSON.stringify({ error }) });
  }
}
