// `kiln serve`: the HTTP API over this home's store and, with a kiln-server.yaml, the queue and in-process workers
// that build its projects; until SIGINT or SIGTERM, which drain (the builds that run end, no new one starts).
import { promises as fsp } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { hostname as machineName } from 'node:os';
import { join, resolve } from 'node:path';
import { serve } from '@hono/node-server';
import { type Kiln, type KilnPorts, parseListen, type ServerConfig } from '../app/index.js';
import { KilnError } from '../core/errors.js';
import { publishConfig, queueRulesOf } from '../farm/farm-config.js';
import { pruneOldHistory } from '../farm/history.js';
import type { Job } from '../farm/job.js';
import { jobLogLines } from '../farm/logs.js';
import {
  announcePromotions,
  listDeliveries,
  type NotificationSender,
  notificationOutbox,
  notificationSender,
} from '../farm/notify.js';
import { type Scheduler, startScheduler } from '../farm/schedules.js';
import { readAllSecrets } from '../farm/secrets.js';
import { type BuildService, buildService } from '../farm/service.js';
import { storeQueue } from '../farm/store-queue.js';
import { webhookIntake } from '../farm/webhooks.js';
import { type ApiService, createApi } from '../server/api.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println } from './context.js';
import { checkedDatabase } from './database.js';
import { withKiln } from './kiln.js';
import { jobAttemptLog, logFormatOf, type ServiceLog, serviceLog } from './service-log.js';

const HELP = `usage: kiln serve [--config kiln-server.yaml] [--listen HOST:PORT] [--database postgres://…] [--workers N]
                  [--log-format text|json]

Serves Kiln's HTTP API over the store of KILN_HOME, and prints "listening on http://HOST:PORT"
once it accepts requests (--listen, else the file's \`listen\`, else 127.0.0.1:8080; port 0 picks
a free one). With --config, it also queues builds of the projects kiln-server.yaml lists, and runs
them on N in-process workers (--workers, default the file's \`concurrency\`; 0 leaves every build
to \`kiln worker\` processes sharing the store). It publishes the file's priority classes and
limits in the store, for those workers to lease by. SIGINT or SIGTERM stops it: no new build
starts, the builds that run end, then it exits.

With --database postgres://USER:PASSWORD@HOST:PORT/DB (else the file's \`database\`, else
KILN_DATABASE), the recorded builds, API tokens, queue, webhook deliveries, schedules and
notifications are in that PostgreSQL database instead of KILN_HOME's SQLite file, and any number
of servers may share it; keys, caches and work directories stay in KILN_HOME. Tables are created
or migrated when the server starts.

What it says about itself goes to stderr: \`kiln: …\` lines, or with --log-format json one JSON
object per line (time, level, service, msg, and jobId, buildId, attempt, step, stream, workerId
where a line is about one; every line of every build's log too). Secrets it reads (kiln-server.yaml's
webhook, git, notification and GitHub secrets; KILN_REGISTRY_PASSWORD, KILN_GIT_PASSWORD,
KILN_TOKEN, PGPASSWORD) are replaced by [redacted] in every line.

  GET  /healthz                 liveness (open)
  GET  /v1/openapi.json         the OpenAPI 3.1 document of the API (open)
  GET  /v1/builds               recorded builds, newest first (?project=NAME&limit=N)      read
  POST /v1/builds               {"project": NAME, "ref": "main"} → 202 {"id", "position"}  trigger
  GET  /v1/builds/{id}          a job (status queued … succeeded) or a recorded build       read
  GET  /v1/builds/{id}/logs     its log lines as Server-Sent Events, live (?step=NAME)     read
  POST /v1/builds/{id}/cancel   cancel a queued or running job                             trigger
  GET  /v1/queue                depth and oldest wait per priority class                   read
  GET  /v1/workers              the workers and what they build                            read
  GET  /v1/deliveries           notifications and commit statuses: status, attempts        read
  GET  /metrics                 the SLIs M1-M10 and the farm, Prometheus text    (loopback) read
  GET  /v1/alerts               the alert log Alertmanager writes (POST, trigger)          read
  GET  /runbooks/NAME           the runbook an alert links to (Markdown)                   (open)
  POST /v1/webhooks/github      a push signed with X-Hub-Signature-256 → 202 {"builds"}    (signature)
  POST /v1/webhooks/gitlab      a push carrying X-Gitlab-Token                             (token)
  POST /v1/webhooks/standard    a Standard Webhooks {"repository", "ref", "commit"?}       (signature)

The last column is the scope the \`Authorization: Bearer <token>\` must have (read < trigger <
admin): create tokens with \`kiln tokens create --scope …\`. A webhook is authenticated by the
secret its project configures (\`webhooks:\` in kiln-server.yaml); it builds the pushed commit once
per delivery id, and only for a repository and ref the file builds. Builds sign with
KILN_SIGNING_KEY or the home's key; a fetched kiln.yaml never chooses a key. Only the
repositories kiln-server.yaml lists are ever fetched.`;

/** Serves the API (and builds, with a config) until the process is asked to stop. */
export async function serveCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    'serve',
    argv,
    {
      listen: { type: 'string' },
      config: { type: 'string' },
      database: { type: 'string' },
      workers: { type: 'string' },
      'log-format': { type: 'string' },
    },
    0,
  );
  if (values.help) {
    println(ctx.stdout, HELP);
    return 0;
  }
  const workers = values.workers === undefined ? undefined : workerCount(values.workers);
  const logs = serviceLog(ctx, logFormatOf(values['log-format'], 'serve'), 'kiln-serve');
  const file = values.config;
  // Read first, without a store: the file may name the database the store is in.
  const config =
    file === undefined ? undefined : await withKiln(ctx, { lines: true }, (kiln) => kiln.loadServerConfig(file));
  const database = databaseUrl(values.database, config);
  if (config) await readAllSecrets(config, logs.secrets);
  await withKiln(ctx, { lines: true, database }, async (kiln, ports) => {
    const listen = values.listen ?? (config ? `${config.listen.host}:${config.listen.port}` : '127.0.0.1:8080');
    const { hostname, port } = listenAddress(listen);
    await kiln.ready();
    const { log, secrets } = logs;
    const started =
      config && file !== undefined
        ? await startService(ctx, kiln, ports, { config, file }, workers ?? config.concurrency, logs)
        : undefined;
    const service = started?.service;
    const scheduler: Scheduler | undefined =
      config && service && startScheduler({ config, store: await ports.store(), service, log });
    const webhooks = config && webhookIntake({ config, store: await ports.store(), secrets, log });
    const app = createApi({
      kiln,
      version: ctx.version,
      service: service && apiService(service, started?.deliveries, started?.logs),
      webhooks,
      onBug: (err) => log(`internal error serving a request: ${(err as Error)?.stack ?? err}`, { level: 'error' }),
      config,
    });
    const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname, port }, () => resolve(s));
      s.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new KilnError('KILN_USAGE', `cannot listen on ${listen}: ${err.code ?? err.message}`, {
            hint: 'pick a free port (or 0 for any) on an address of this machine',
          }),
        ),
      );
    }).catch(async (err: unknown) => {
      await scheduler?.stop();
      await Promise.all([service?.drain(), started?.sender.stop()]);
      throw err;
    });
    const { port: bound } = server.address() as AddressInfo;
    const host = hostname.includes(':') ? `[${hostname}]` : hostname;
    println(ctx.stdout, `kiln: listening on http://${host}:${bound}`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        if (service) log('stopping: no new build starts; waiting for the builds that run');
        // Once the builds have ended, the sender stops at once (a POST in flight is aborted and stays due).
        Promise.all([
          new Promise((closed) => server.close(closed)),
          (async () => {
            await scheduler?.stop();
            await service?.drain();
          })(),
        ])
          .then(() => started?.sender.stop())
          .then(() => resolve());
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  });
  return 0;
}

/** The queue over the home's store, its rules published, and `workers` in-process workers started. */
async function startService(
  ctx: CliContext,
  kiln: Kiln,
  ports: KilnPorts,
  { config, file }: { config: ServerConfig; file: string },
  workers: number,
  { log, secrets, format }: ServiceLog,
): Promise<{
  service: BuildService;
  sender: NotificationSender;
  deliveries: ApiService['deliveries'];
  logs: ApiService['logs'];
}> {
  const store = await ports.store();
  const host = machineName(); // the source of every event this server writes
  const sender = notificationSender({
    store,
    config,
    secrets,
    log,
    userAgent: `kiln/${ctx.version}`,
    announce: () => announcePromotions(store, { config, host, now: new Date() }),
  });
  const { name, layoutDir } = ports.artifacts;
  const outbox = notificationOutbox({ config, host, artifactTarget: { name, layoutDir } });
  // What `kiln worker`s sharing the store decide and notify by: this server's kiln-server.yaml.
  await publishConfig(store, await fsp.readFile(file, 'utf8'), resolve(ctx.cwd, file), new Date());
  const queue = storeQueue(store, {
    ...queueRulesOf(config),
    onChange: async (db, job, at) => {
      await outbox(db, job, at);
      queueMicrotask(sender.wake); // committed by then or soon after: the sender's poll catches a late one
    },
  });
  const reaped = await queue.reap();
  if (reaped.requeued.length + reaped.lost.length > 0) {
    log(`builds left by a stopped server: ${reaped.requeued.length} queued again, ${reaped.lost.length} lost`);
  }
  const service = buildService({
    kiln,
    queue,
    store,
    version: ctx.version,
    config,
    secrets,
    deliveryDir: join(ports.home.home, 'serve', 'out'),
    leaseMs: config.leaseMs,
    log,
    attemptLog: jobAttemptLog(store, { log, format }),
  });
  service.start(workers);
  sender.start();
  log(`building ${config.projects.length} project(s) on ${workers} in-process worker(s)`);
  // What the server did besides the builds is kept `historyDays`: pruned now and every hour (by every replica).
  const prune = () => void pruneOldHistory(store, config, log);
  prune();
  setInterval(prune, 3_600_000).unref();
  return {
    service,
    sender,
    deliveries: (query) => listDeliveries(store, query),
    logs: (id, query) => jobLogLines(store, id, query),
  };
}

/** The service as the API sees it. */
export function apiService(
  service: BuildService,
  deliveries?: ApiService['deliveries'],
  logs?: ApiService['logs'],
): ApiService {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const view = (job: Job) => ({
    id: job.id,
    project: job.project,
    status: job.state,
    commit: job.commit,
    ref: typeof job.payload.ref === 'string' ? job.payload.ref : null,
    branch: job.branch,
    priority: job.priority,
    attempt: job.attempt,
    submittedAt: new Date(job.submittedAt).toISOString(),
    endedAt: iso(job.endedAt),
    worker: job.workerId,
    attempts: job.attempts.map((a) => ({
      attempt: a.attempt,
      worker: a.workerId,
      startedAt: new Date(a.startedAt).toISOString(),
      endedAt: new Date(a.endedAt).toISOString(),
      outcome: a.outcome,
      buildId: a.buildId,
    })),
    buildId: job.buildId,
  });
  return {
    submit: async (request) => {
      const submitted = await service.submit(request);
      return { ...submitted, superseded: [...submitted.superseded] };
    },
    job: async (id) => {
      const job = await service.queue.get(id);
      return job && view(job);
    },
    cancel: (id) => service.cancel(id),
    queue: async () => {
      const { classes, running } = await service.queue.stats();
      return { classes: classes.map((c) => ({ ...c })), running };
    },
    workers: () => service.workers(),
    nextEnd: (ms) => service.nextEnd(ms),
    ...(deliveries && { deliveries }),
    ...(logs && { logs }),
  };
}

/** --workers: a count of in-process workers, 0 or more. */
export function workerCount(text: string): number {
  if (!/^\d{1,3}$/.test(text)) {
    throw new KilnError('KILN_USAGE', `--workers must be a whole number from 0 to 999, got "${text}"`, {
      hint: 'e.g. --workers 2, or --workers 0 to leave every build to `kiln worker` processes',
    });
  }
  return Number(text);
}

/** The PostgreSQL URL of the store: --database, else kiln-server.yaml's `database`, else KILN_DATABASE; or none. */
function databaseUrl(flag: string | undefined, config: ServerConfig | undefined): string | undefined {
  if (flag !== undefined) return checkedDatabase('--database', flag);
  if (config?.database.kind === 'postgres') return config.database.url;
  return undefined; // KILN_DATABASE, or the SQLite store of KILN_HOME (withKiln)
}

/** `HOST:PORT` (`[::1]:PORT` for IPv6), read as kiln-server.yaml's `listen` is. */
function listenAddress(listen: string): { hostname: string; port: number } {
  const parsed = parseListen(listen);
  if (!parsed) {
    throw new KilnError('KILN_USAGE', `--listen must be HOST:PORT, got "${listen}"`, {
      hint: 'e.g. --listen 127.0.0.1:8080, or 127.0.0.1:0 for any free port',
    });
  }
  return { hostname: parsed.host, port: parsed.port };
}
