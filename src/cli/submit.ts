// `kiln submit PROJECT [--ref REF] [--follow]`: queue a build on a Kiln server (POST /v1/builds) and, with --follow,
// watch it to the end. The token comes from KILN_TOKEN, never a flag (flags show in the process list).
import { ERROR_CODES, KilnError, type KilnErrorCode } from '../core/errors.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println } from './context.js';

const HELP = `usage: kiln submit PROJECT [--ref REF] [--force] [--follow] [--server URL] [--json]

Queues a build of PROJECT (a project of the server's kiln-server.yaml) at REF (a branch, tag or
commit; default main) on the Kiln server at --server (default $KILN_SERVER, else
http://127.0.0.1:8080), with the token in KILN_TOKEN (scope trigger; \`kiln tokens create\`).
Prints the job id. --follow waits for the job to end, printing each change of status, then the
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
  let last = '';
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
    await new Promise((r) => setTimeout(r, 500));
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
    const text = await res.text();
    const answer = (() => {
      try {
        return JSON.parse(text) as Json;
      } catch {
        return undefined;
      }
    })();
    const error = answer?.error as { code?: string; message?: string; hint?: string | null } | undefined;
    if (!res.ok || answer === undefined) {
      const code = error?.code !== undefined && error.code in ERROR_CODES ? (error.code as KilnErrorCode) : 'KILN_IO';
      throw new KilnError(code, `${base}${path}: ${error?.message ?? `HTTP ${res.status}`}`, {
        hint: error?.hint ?? 'is --server the address of a Kiln server?',
      });
    }
    return answer;
  };
}
