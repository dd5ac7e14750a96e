// The HTTP API of `kiln serve`: a fetch-style Hono app over the same use cases as the CLI, tested in-process
// with `app.request()`. Every answer is JSON (a build's log is a stream of Server-Sent Events); every failure is `{ error: { code, message, hint } }` with the HTTP
// status its code maps to (ERROR_CODES). Only /healthz, /v1/openapi.json, the runbooks and the webhooks (verified by
// their signatures) are open, and /metrics to a client on this machine; the rest needs a bearer token.
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { z } from 'zod';
import type { AlertRow, BuildRow, Kiln, ServerConfig, BuildDetail as StoredBuild } from '../app/index.js';
import { EXPOSITION_CONTENT_TYPE } from '../app/index.js';
import { ERROR_CODES, isKilnError, KilnError } from '../core/errors.js';
import { parseObject } from '../core/json.js';
import { type LogCursor, lastEventId, streamLogs } from './log-stream.js';
import { openApiDocument } from './openapi.js';
import {
  type Alert,
  AlertsQuery,
  type Build,
  type BuildDetail,
  BuildsQuery,
  DeliveriesQuery,
  type Delivery,
  type Job,
  type LogLine,
  LogsQuery,
  type QueueView,
  SubmitRequest,
  type Submitted,
  type WorkerView,
} from './schemas.js';
import { receiveWebhook, type WebhookPorts } from './webhook-route.js';
import type { WebhookSource } from './webhooks/index.js';

/** The build service behind the write endpoints (`kiln serve --config`): the queue and its workers. */
export interface ApiService {
  /** Queues a build; `commit` (a webhook's pushed commit) is built as is instead of resolving the ref. */
  submit(request: z.infer<typeof SubmitRequest> & { commit?: string | undefined }): Promise<z.infer<typeof Submitted>>;
  /** A job of the queue, with the build its last attempt recorded (`buildId`), if any. */
  job(id: string): Promise<(Omit<z.infer<typeof Job>, 'build' | 'artifacts'> & { buildId: string | null }) | undefined>;
  cancel(id: string): Promise<boolean>;
  queue(): Promise<z.infer<typeof QueueView>>;
  workers(): Promise<z.infer<typeof WorkerView>[]>;
  /** Recent notifications to the projects' notify targets; none when it is absent. */
  deliveries?(query: z.infer<typeof DeliveriesQuery>): Promise<z.infer<typeof Delivery>[]>;
  /** A job's log lines after a cursor, in order, of one step if asked; the server keeps no logs when absent. */
  logs?(id: string, query: LogsRead): Promise<(z.infer<typeof LogLine> & { seq: number })[]>;
  /** Resolves when a job ended in this process, or after `ms`; log streams then sleep `ms` between looks. */
  nextEnd?(ms: number): Promise<void>;
}

/** What one read of a job's log asks for. */
export interface LogsRead {
  readonly after?: LogCursor | undefined;
  readonly step?: string | undefined;
  readonly limit: number;
}

/** What the API runs over: a Kiln (its store holds builds and tokens) and the server's version. */
export interface ApiDeps {
  readonly kiln: Kiln;
  readonly version: string;
  /** The queue and workers; without it the server only reads (no kiln-server.yaml was given). */
  readonly service?: ApiService | undefined;
  /** What the webhook endpoints read of the server configuration and store; given with `service`. */
  readonly webhooks?: WebhookPorts | undefined;
  /** Called with failures that are not KilnErrors (bugs): the server logs them; the client gets a 500. */
  readonly onBug?: (err: unknown) => void;
  /** How often a log stream looks for new lines while its job runs (default 250 ms). */
  readonly logPollMs?: number | undefined;
  /** kiln-server.yaml: the teams and branch classes of the metrics; defaults without. */
  readonly config?: Pick<ServerConfig, 'projects' | 'slo'> | undefined;
}

/** The API as a Hono app (`app.fetch` serves it; `app.request()` tests it). */
export function createApi(deps: ApiDeps): Hono {
  const { kiln } = deps;
  const app = new Hono();
  const document = openApiDocument(deps.version);
  const service = (): ApiService => {
    if (deps.service) return deps.service;
    throw new KilnError('KILN_USAGE', 'this server builds nothing: it was started without a kiln-server.yaml', {
      hint: 'start it with `kiln serve --config kiln-server.yaml` to build the projects listed there',
    });
  };
  const allow =
    (scope: 'read' | 'trigger' | 'admin'): MiddlewareHandler =>
    async (c, next) => {
      await kiln.authenticate(c.req.header('authorization'), scope);
      await next();
    };

  app.onError((err, c) => {
    if (!isKilnError(err)) deps.onBug?.(err);
    const known = isKilnError(err) ? err : undefined;
    const status = known ? ERROR_CODES[known.code].http : 500;
    const body = known
      ? { error: { code: known.code, message: known.message, hint: known.hint ?? null } }
      : { error: { code: 'KILN_BUG', message: 'internal error (logged by the server)', hint: null } };
    return c.json(body, status as 500);
  });
  app.notFound((c) =>
    c.json({ error: { code: 'KILN_NOT_FOUND', message: `no route ${c.req.method} ${c.req.path}`, hint: null } }, 404),
  );

  app.get('/healthz', (c) => c.json({ status: 'ok', version: deps.version }));
  app.get('/v1/openapi.json', (c) => c.json(document));

  app.get('/v1/builds', allow('read'), async (c) => {
    const query = BuildsQuery.safeParse(c.req.query());
    if (!query.success) throw badRequest('query', query.error.issues, 'project=NAME and limit=1..1000');
    const rows = await kiln.listBuilds(query.data);
    return c.json({ builds: rows.map(buildOf) });
  });

  app.post('/v1/builds', allow('trigger'), async (c) => {
    const body = await c.req.json().catch(() => undefined);
    const request = SubmitRequest.safeParse(body);
    if (!request.success) throw badRequest('body', request.error.issues, 'send {"project": NAME, "ref": "main"}');
    return c.json(await service().submit(request.data), 202);
  });

  app.get('/v1/builds/:id', allow('read'), async (c) => {
    const id = c.req.param('id');
    const job = await deps.service?.job(id);
    if (job) {
      const { buildId, ...rest } = job;
      const build = buildId === null ? undefined : await recordedBuild(kiln, buildId);
      return c.json({ ...rest, build: build ?? null, artifacts: build?.artifacts ?? [] });
    }
    const found = await recordedBuild(kiln, id);
    if (!found) {
      throw new KilnError('KILN_NOT_FOUND', `no build or job has the id "${id}"`, {
        hint: 'list builds with GET /v1/builds',
      });
    }
    return c.json(found);
  });

  app.get('/v1/builds/:id/logs', allow('read'), async (c) => {
    const id = c.req.param('id');
    const query = LogsQuery.safeParse(c.req.query());
    if (!query.success) throw badRequest('query', query.error.issues, 'step=NAME, or nothing for every step');
    const after = lastEventId(c.req.header('last-event-id'));
    const builds = service();
    const logs = builds.logs;
    if (!(await builds.job(id))) {
      throw new KilnError('KILN_NOT_FOUND', `no job has the id "${id}"`, { hint: 'the id POST /v1/builds answered' });
    }
    if (!logs) {
      throw new KilnError('KILN_NOT_FOUND', 'this server keeps no build logs', {
        hint: 'GET /v1/builds/{id} shows how the build ended',
      });
    }
    return streamSSE(c, (stream) =>
      streamLogs(stream, {
        read: (cursor, limit) => logs(id, { after: cursor, step: query.data.step, limit }),
        status: async () => (await builds.job(id))?.status,
        after,
        pollMs: deps.logPollMs ?? 250,
        wait: builds.nextEnd?.bind(builds),
        onBug: deps.onBug,
      }),
    );
  });

  app.post('/v1/builds/:id/cancel', allow('trigger'), async (c) => {
    const id = c.req.param('id');
    if (!(await service().job(id))) {
      throw new KilnError('KILN_NOT_FOUND', `no job has the id "${id}"`, { hint: 'the id POST /v1/builds answered' });
    }
    return c.json({ id, cancelled: await service().cancel(id) });
  });

  for (const source of ['github', 'gitlab', 'standard'] as const satisfies readonly WebhookSource[]) {
    // Open: the delivery's signature (GitLab: token) is checked against the configured projects' secrets.
    app.post(`/v1/webhooks/${source}`, async (c) => {
      const builds = service(); // throws for a server without kiln-server.yaml: it has no webhooks either
      if (!deps.webhooks) {
        throw new KilnError('KILN_NOT_FOUND', 'this server takes no webhooks', {
          hint: 'send webhooks to a server started with `kiln serve --config kiln-server.yaml`',
        });
      }
      return receiveWebhook(c, source, deps.webhooks, (request) => builds.submit(request));
    });
  }

  app.get('/metrics', async (c) => {
    // Prometheus on the same machine scrapes without a token; from anywhere else, a read token.
    if (!isLoopback(remoteAddress(c))) await kiln.authenticate(c.req.header('authorization'), 'read');
    return c.body(await kiln.metrics(deps.config), 200, { 'Content-Type': EXPOSITION_CONTENT_TYPE });
  });
  app.post('/v1/alerts', allow('trigger'), async (c) => {
    const body = await c.req.json().catch(() => undefined);
    return c.json({ received: await kiln.receiveAlerts(body) });
  });
  app.get('/v1/alerts', allow('read'), async (c) => {
    const query = AlertsQuery.safeParse(c.req.query());
    if (!query.success) throw badRequest('query', query.error.issues, 'status=firing|resolved, limit=1..1000');
    const rows = await kiln.alertLog(query.data);
    return c.json({ alerts: rows.map(alertOf) });
  });
  app.get('/runbooks/:name', async (c) => {
    const name = c.req.param('name').replace(/\.md$/, '');
    const text = await kiln.runbook(name);
    if (text === undefined) {
      throw new KilnError('KILN_NOT_FOUND', `no runbook is called "${name}"`, {
        hint: 'the alerts link to each runbook',
      });
    }
    return c.body(text, 200, { 'Content-Type': 'text/markdown; charset=utf-8' });
  });

  app.get('/v1/queue', allow('read'), async (c) => c.json(await service().queue()));
  app.get('/v1/workers', allow('read'), async (c) => c.json({ workers: await service().workers() }));
  app.get('/v1/deliveries', allow('read'), async (c) => {
    const query = DeliveriesQuery.safeParse(c.req.query());
    if (!query.success)
      throw badRequest(
        'query',
        query.error.issues,
        'project=NAME, status=pending|delivered|failed|superseded, limit=1..1000',
      );
    const list = service().deliveries;
    return c.json({ deliveries: list ? await list(query.data) : [] });
  });

  return app;
}

/**
 * The address a request came from (the Node server's socket); undefined in-process (`app.request()`), and for a
 * request a proxy forwarded: a reverse proxy on this machine would otherwise make every client look local.
 */
function remoteAddress(c: Context): string | undefined {
  if (c.req.header('x-forwarded-for') !== undefined || c.req.header('forwarded') !== undefined) return undefined;
  return (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress;
}

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === '::1' || /^(::ffff:)?127\./.test(address));
}

function alertOf(row: AlertRow): z.infer<typeof Alert> {
  return {
    fingerprint: row.fingerprint,
    startsAt: row.starts_at,
    status: row.status,
    alertname: row.alertname,
    severity: row.severity,
    project: row.project,
    team: row.team,
    labels: parseObject(row.labels) as Record<string, string>,
    annotations: parseObject(row.annotations) as Record<string, string>,
    endsAt: row.ends_at,
    receivedAt: row.received_at,
  };
}

/** A recorded build by its exact id (the CLI's prefixes, commits and digests are conveniences for people). */
async function recordedBuild(kiln: Kiln, id: string): Promise<z.infer<typeof BuildDetail> | undefined> {
  const found = await kiln.showBuild(id).catch((err: unknown) => {
    if (isKilnError(err) && err.code !== 'KILN_NOT_FOUND' && err.code !== 'KILN_USAGE') throw err;
    return undefined;
  });
  return found?.build.id === id ? detailOf(found) : undefined;
}

function badRequest(what: string, issues: readonly { path: PropertyKey[]; message: string }[], hint: string) {
  const problems = issues.map((i) => `${i.path.map(String).join('.') || what}: ${i.message}`).join('; ');
  return new KilnError('KILN_BAD_REQUEST', `bad ${what}: ${problems}`, { hint });
}

function buildOf(row: BuildRow): z.infer<typeof Build> {
  const running = row.status === 'running';
  return {
    id: row.id,
    project: row.project,
    status: row.status,
    repository: row.repo_url,
    commit: row.commit_sha,
    subdir: row.subdir,
    branch: row.branch,
    dirty: row.dirty === 1,
    startedAt: row.started_at,
    finishedAt: running ? null : row.finished_at,
    durationMs: running ? null : row.duration_ms,
    exitCode: row.exit_code,
    error: row.error,
    runner: row.runner,
    cache: { hits: row.cache_hits, misses: row.cache_misses },
    builderId: row.builder_id,
    worker: workerOf(row),
    kilnVersion: row.kiln_version,
    flakySteps: row.flaky_steps,
  };
}

/** The worker a build row names; null for a local build (or labels the row cannot give back). */
function workerOf(row: BuildRow): z.infer<typeof Build>['worker'] {
  if (row.worker_id === null || row.worker_host === null) return null;
  let labels: Record<string, string> = {};
  try {
    const parsed: unknown = JSON.parse(row.worker_labels ?? '{}');
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      labels = Object.fromEntries(
        Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'),
      );
    }
  } catch {
    // an unreadable labels column shows as no labels
  }
  return { id: row.worker_id, host: row.worker_host, labels };
}

function detailOf(detail: StoredBuild): z.infer<typeof BuildDetail> {
  return {
    ...buildOf(detail.build),
    steps: detail.steps.map((s) => ({
      name: s.name,
      status: s.status,
      exitCode: s.exit_code,
      durationMs: s.duration_ms,
      startedAt: s.started_at,
      finishedAt: s.finished_at,
      attempts: s.attempts,
      flaky: s.flaky === 1,
    })),
    artifacts: detail.artifacts.map((a) => ({
      name: a.name,
      digest: a.digest,
      manifestDigest: a.manifest_digest,
      size: a.size,
    })),
  };
}
