// `kiln submit PROJECT [--ref REF] [--follow]`: queue a build on a Kiln server (POST /v1/builds) and, with --follow,
// print its log as it runs (GET /v1/builds/{id}/logs, Server-Sent Events) and its end. The token comes from KILN_TOKEN, never a flag (flags show in the process list).
import { ERROR_CODES, KilnError, type KilnErrorCode } from '../core/errors.js';
import { escapeForTerminal } from '../core/terminal.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println } from './context.js';
import { serverSentEvents } from './event-stream.js';

const HELP = `usage: kiln submit PROJECT [--ref REF] [--force] [--follow] [--server URL] [--json]

Queues a build of PROJECT (a project of the server's kiln-server.yaml) at REF (a branch, tag or
commit; default main) on the Kiln server at --server (default $KILN_SERVER, else
http://127.0.0.1:8080), with the token in KILN_TOKEN (scope trigger; \`kiln tokens create\`).
Prints the job id. --follow prints the build's log on stderr as it runs (each line prefixed with
its step: "compile | …"; with --json, one JSON object per line), then the final status, the
recorded build and its artifacts; the exit status is then the build's: 0 succeeded, 1 failed or
cancelled, 4 lost (infrastructure), 5 blocked by policy. --force queues it even when the same
commit is queued or running.`;

const ENDED: Readonly<Record<string, number>> = { succeeded: 0, failed: 1, cancelled: 1, lost: 4, blocked: 5 };

/** Submits a build, and follows it when asked. */
export async function submitCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'submit',
    argv,
    {
      ref: { type: 'string', default: 'main' },
      force: { type: 'boolean' },
      follow: { type: 'boolean' },
      server: { type: 'string' },
      json: { type: 'boolean' },
    },
    1,
  );
  if (values.help) {
    println(ctx.stdout, HELP);
    return 0;
  }
  const project = positionals[0];
  if (!project) throw new KilnError('KILN_USAGE', 'kiln submit: missing PROJECT', { hint: HELP });
  const token = ctx.env.KILN_TOKEN;
  if (!token) {
    throw new KilnError('KILN_USAGE', 'kiln submit: KILN_TOKEN is not set', {
      hint: 'export KILN_TOKEN=$(kiln tokens create --scope trigger) on the server’s home, or ask its admin for one',
    });
  }
  const base = (values.server ?? ctx.env.KILN_SERVER ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const api = client(base, token);
  const submitted = await api('POST', '/v1/builds', { project, ref: values.ref, force: Boolean(values.force) });
  const id = String(submitted.id);
  if (!values.follow) {
    println(ctx.stdout, values.json ? JSON.stringify(submitted, null, 2) : id);
    if (!values.json) {
      const how = submitted.deduplicated ? 'already queued or running' : `position ${submitted.position}`;
      println(ctx.stderr, `kiln: ${project} at ${values.ref}: job ${id} (${how}); follow it with --follow`);
    }
    return 0;
  }
  const first = await api('GET', `/v1/builds/${encodeURIComponent(id)}`);
  if (!values.json) println(ctx.stderr, `kiln: job ${id}: ${String(first.status)}`);
  const streamed = await followLogs(ctx, base, token, id, Boolean(values.json));
  let last = String(first.status);
  for (;;) {
    const job = await api('GET', `/v1/builds/${encodeURIComponent(id)}`);
    const status = String(job.status);
    if (status !== last && !values.json) println(ctx.stderr, `kiln: job ${id}: ${status}`);
    last = status;
    if (status in ENDED) {
      if (values.json) println(ctx.stdout, JSON.stringify(job, null, 2));
      else printEnded(ctx, job);
      return ENDED[status] as number;
    }
    // Only without a log stream (a server that keeps no logs) is the job polled until it ends.
    await new Promise((r) => setTimeout(r, streamed ? 100 : 500));
  }
}

/** How many times in a row a dropped log stream is opened again (after the last line received) before giving up. */
const RECONNECTS = 5;

/**
 * Prints the job's log lines on stderr as they arrive (`STEP | text`, or JSON lines with --json) until the server says
 * the job ended; false when the server keeps no logs (the caller then polls the job).
 */
async function followLogs(ctx: CliContext, base: string, token: string, id: string, json: boolean): Promise<boolean> {
  let lastId: string | undefined;
  for (let failures = 0; ; ) {
    const res = await fetch(`${base}/v1/builds/${encodeURIComponent(id)}/logs`, {
      headers: {
        Authorization: `Bearer ${token}`,
        Accept: 'text/event-stream',
        ...(lastId === undefined ? {} : { 'Last-Event-ID': lastId }),
      },
    }).catch(() => undefined);
    if (res?.status === 404) return false; // a server without logs (or without this route)
    if (res && !res.ok) throw await answerError(res, `${base}/v1/builds/${id}/logs`);
    if (res?.body) {
      try {
        for await (const event of serverSentEvents(res.body)) {
          if (event.event === 'end') return true;
          if (event.event === 'error') break;
          if (event.event !== 'log') continue;
          lastId = event.id ?? lastId;
          failures = 0;
          printLogLine(ctx, event.data, event.id, json);
        }
      } catch {
        // the connection dropped: open it again after the last line received
      }
    }
    if (++failures > RECONNECTS) {
      throw new KilnError('KILN_IO', `the log stream of job ${id} at ${base} keeps breaking off`, {
        hint: `see how the job ended with: curl -H "Authorization: Bearer $KILN_TOKEN" ${base}/v1/builds/${id}`,
      });
    }
    await new Promise((r) => setTimeout(r, 500 * failures));
  }
}

/** One `log` event: `STEP | text` for people (escaped: the text is the build's), its data as a JSON line for machines. */
function printLogLine(ctx: CliContext, data: string, id: string | undefined, json: boolean): void {
  let line: Json;
  try {
    line = JSON.parse(data) as Json;
  } catch {
    return;
  }
  if (json) println(ctx.stderr, JSON.stringify({ event: 'log', id: id ?? null, ...line }));
  else {
    const step = typeof line.step === 'string' ? line.step : 'kiln';
    println(ctx.stderr, `${escapeForTerminal(step)} | ${escapeForTerminal(String(line.text ?? ''))}`);
  }
}

type Json = Record<string, unknown>;

function printEnded(ctx: CliContext, job: Json): void {
  const build = job.build as Json | null;
  if (build) println(ctx.stdout, `build ${build.id} ${build.status}${build.error ? `: ${build.error}` : ''}`);
  for (const a of (job.artifacts as Json[] | undefined) ?? []) println(ctx.stdout, `  ${a.name}  ${a.digest}`);
}

/** A call to the server: its JSON answer, or its error as the KilnError it names. */
function client(base: string, token: string) {
  return async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<Json> => {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (cause) {
      throw new KilnError('KILN_IO', `cannot reach the Kiln server at ${base}`, {
        cause,
        hint: 'start it with `kiln serve --config kiln-server.yaml`, or point --server / KILN_SERVER at it',
      });
    }
    const answer = await jsonOf(res);
    if (!res.ok || answer === undefined) throw await answerError(res, `${base}${path}`, answer);
    return answer;
  };
}

async function jsonOf(res: Response): Promise<Json | undefined> {
  try {
    return JSON.parse(await res.text()) as Json;
  } catch {
    return undefined;
  }
}

/** A failed answer as the KilnError its body names (KILN_IO when it names none). */
async function answerError(res: Response, url: string, body?: Json): Promise<KilnError> {
  const answer = body ?? (await jsonOf(res));
  const error = answer?.error as { code?: string; message?: string; hint?: string | null } | undefined;
  const code = error?.code !== undefined && error.code in ERROR_CODES ? (error.code as KilnErrorCode) : 'KILN_IO';
  return new KilnError(code, `${url}: ${error?.message ?? `HTTP ${res.status}`}`, {
    hint: error?.hint ?? 'is --server the address of a Kiln server?',
  });
}
