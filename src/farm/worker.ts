// Workers of the farm, in `kiln serve` or in `kiln worker` on any machine: loops that each lease a job from the
// shared queue, build it with the use case every surface calls (signing here, outside the sandbox), keep the lease
// with heartbeats, and report how it ended. Each reports itself in the store too (state, job, health), so any server
// replica can show every worker and how it is.

import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Kiln, MachineHealth } from '../app/index.js';
import { resolveSecret, type SecretRef, type SecretSources, type ServerProject } from '../config/index.js';
import { alarm } from '../core/alarm.js';
import { isKilnError, KilnError, type KilnErrorCode } from '../core/errors.js';
import { parseObject } from '../core/json.js';
import type { Log } from '../core/log.js';
import { hostName } from '../platform/processes.js';
import { reportWorker, type Store, WORKER_REPORT_MS, type WorkerRow, workerRows } from '../store/index.js';
import type { Job, Labels, WorkerOutcome } from './job.js';
import type { AttemptLog } from './logs.js';
import type { BuildQueue } from './queue.js';

/** What a worker needs to fetch a job's source: written into the job when it is queued, so no worker needs the config. */
export interface JobSource {
  readonly repository: string;
  readonly path: string;
  /** The password is a reference (an environment variable or a file) resolved on the worker, never the secret. */
  readonly credentials?: { readonly username: string; readonly password: SecretRef } | undefined;
}

/** The payload of a job of `project` for `ref`. */
export function jobPayload(project: ServerProject, ref: string): Record<string, unknown> {
  const source: JobSource = { repository: project.repository, path: project.path, credentials: project.credentials };
  return { ref, source };
}

/** The ref a job was submitted for (its branch, or its commit for a job of an older Kiln whose payload has none). */
export function jobRefOf(job: Job): string {
  const ref = job.payload.ref;
  return typeof ref === 'string' && ref !== '' ? ref.replace(/^refs\/(heads|tags)\//, '') : (job.branch ?? job.commit);
}

/** The source a job's payload names; a KILN_USAGE error for a payload that names none (a job of an older Kiln). */
export function jobSourceOf(job: Job): JobSource {
  const source = job.payload.source as Partial<JobSource> | undefined;
  const credentials = source?.credentials as Partial<NonNullable<JobSource['credentials']>> | undefined;
  const secret = credentials?.password as Partial<SecretRef> | undefined;
  const credentialsOk =
    credentials === undefined ||
    (typeof credentials.username === 'string' &&
      (secret?.kind === 'env'
        ? typeof secret.env === 'string'
        : secret?.kind === 'file' && typeof secret.file === 'string'));
  if (typeof source?.repository !== 'string' || typeof source.path !== 'string' || !credentialsOk) {
    throw new KilnError('KILN_USAGE', `job ${job.id} of project ${job.project} does not say where its source is`, {
      hint: 'it was queued by an older Kiln; submit the build again',
    });
  }
  return source as JobSource;
}

/** A worker as `GET /v1/workers` shows it: what it last reported, and how long ago. */
export interface WorkerView {
  readonly id: string;
  readonly host: string;
  readonly labels: Labels;
  readonly version: string;
  /** `gone` when it has not reported for three report intervals (killed, or its machine lost). */
  readonly state: 'idle' | 'building' | 'stopping' | 'stopped' | 'gone';
  readonly job: string | null;
  readonly startedAt: string;
  readonly heartbeatAt: string;
  readonly heartbeatAgeMs: number;
  readonly health: Omit<MachineHealth, 'workDir' | 'cacheDir'> & {
    readonly workDir: string;
    readonly cacheDir: string;
  };
}

/** How often a worker reports itself (and its health) when nothing changes (kept by the store, its readers too). */
export { WORKER_REPORT_MS } from '../store/index.js';

/** The workers that reported within the last hour at `now`, newest first. */
export async function listWorkers(store: Store, now: Date, reportMs = WORKER_REPORT_MS): Promise<WorkerView[]> {
  const rows = await workerRows(store, new Date(now.getTime() - 3_600_000).toISOString());
  return rows.map((row) => workerView(row, now.getTime(), reportMs));
}

function workerView(row: WorkerRow, now: number, reportMs: number): WorkerView {
  const age = Math.max(0, now - Date.parse(row.heartbeat_at));
  const said = row.state as WorkerView['state'];
  return {
    id: row.id,
    host: row.host,
    labels: parseObject(row.labels) as Labels,
    version: row.kiln_version,
    state: said !== 'stopped' && age > 3 * reportMs ? 'gone' : said,
    job: row.job_id,
    startedAt: row.started_at,
    heartbeatAt: row.heartbeat_at,
    heartbeatAgeMs: age,
    health: parseObject(row.health) as WorkerView['health'],
  };
}

/** Codes of failures the build's own input caused: a rebuild would fail alike, so the farm never retries them. */
const BUILD_FAILURES: ReadonlySet<KilnErrorCode> = new Set<KilnErrorCode>([
  'KILN_STEP_FAILED',
  'KILN_STEP_LIMIT',
  'KILN_OUTPUT_MISSING',
  'KILN_CONFIG_INVALID',
  'KILN_CONFIG_NOT_FOUND',
  'KILN_LOCKFILE_INVALID',
  'KILN_LOCKFILE_UNSUPPORTED',
  'KILN_SBOM_INVALID',
  'KILN_PACKAGE_UNSAFE',
  'KILN_SOURCE_SUBMODULE',
  'KILN_USAGE',
  'KILN_TAG_IMMUTABLE',
]);

/** How a build attempt ended, as the queue counts it: the build's fault, the policy's verdict, or the machine's. */
export function outcomeOf(err: unknown): WorkerOutcome {
  if (isKilnError(err, 'KILN_POLICY_BLOCKED')) return 'blocked';
  if (isKilnError(err) && !BUILD_FAILURES.has(err.code)) return 'infra';
  return 'failed'; // a build failure, or a bug: retrying either changes nothing
}

/** Everything workers run over. */
export interface WorkerPoolDeps {
  readonly kiln: Kiln;
  readonly queue: BuildQueue;
  readonly store: Store;
  readonly secrets: SecretSources;
  /** Where builds deliver their files (one directory per project). */
  readonly deliveryDir: string;
  /** Kiln's version, reported with the worker. */
  readonly version: string;
  readonly labels?: Labels;
  /** How long a lease lasts before another worker may take the job; heartbeats renew it at a third of that. */
  readonly leaseMs?: number;
  /** How long an idle worker waits before it asks the queue again (`wake` makes it ask at once). */
  readonly pollMs?: number;
  readonly reportMs?: number;
  readonly log?: Log;
  /** The log of a leased job's attempt, fed the build's events (logs.ts); none kept when absent. */
  readonly attemptLog?: ((job: Job) => AttemptLog) | undefined;
  /** Told once a job a worker here ran has ended in the store (what its followers wait for). */
  readonly onEnded?: ((jobId: string) => void) | undefined;
}

/** Workers of one process. */
export interface WorkerPool {
  /** Starts `count` more workers, each with a fresh id; returns their ids. */
  start(count: number): string[];
  /** Makes idle workers ask the queue now (a job was submitted). */
  wake(): void;
  /** Stops the build of `jobId` at once if a worker here runs it (the job was cancelled). */
  stopBuild(jobId: string): void;
  /** Stops taking jobs, waits for the builds that run to end, and reports the workers stopped (SIGTERM drains). */
  drain(): Promise<void>;
}

type Reported = {
  id: string;
  startedAt: string;
  state: 'idle' | 'building' | 'stopping' | 'stopped';
  job: string | null;
};

/** A pool of workers over a queue. */
export function workerPool(deps: WorkerPoolDeps): WorkerPool {
  const { kiln, queue } = deps;
  const leaseMs = deps.leaseMs ?? 60_000;
  const pollMs = deps.pollMs ?? 1_000;
  const reportMs = deps.reportMs ?? WORKER_REPORT_MS;
  const labels = deps.labels ?? {};
  const host = hostName();
  const workers = new Map<string, { state: Reported; done: Promise<void> }>();
  /** The builds this process runs, by job id: what cancelling one stops at once. */
  const running = new Map<string, AbortController>();
  let stopping = false;
  /** What idle workers sleep on between asks of the queue; rung when a job is submitted here. */
  const idle = alarm();
  const wake = () => idle.ring();

  /** Writes one worker's report, with the machine's health now; a store failure is logged, never fatal. */
  async function report(w: Reported): Promise<void> {
    try {
      const health = await kiln.health();
      await reportWorker(deps.store, {
        id: w.id,
        host,
        labels: JSON.stringify(labels),
        kiln_version: deps.version,
        started_at: w.startedAt,
        heartbeat_at: new Date().toISOString(),
        state: w.state,
        job_id: w.job,
        health: JSON.stringify(health),
      });
    } catch (err) {
      deps.log?.(`worker ${w.id}: cannot report to the store: ${String(err)}`);
    }
  }
  const reporter = setInterval(() => {
    for (const w of workers.values()) void report(w.state);
  }, reportMs);
  reporter.unref();

  async function runJob(worker: Reported, job: Job): Promise<void> {
    // Stopped when the job is cancelled here, or when a heartbeat finds the lease gone (cancelled elsewhere, or
    // taken by another worker after this one stalled): the build then ends as interrupted, and its outcome is void.
    const abort = new AbortController();
    running.set(job.id, abort);
    const beat = setInterval(() => {
      queue.heartbeat(job.id, worker.id, leaseMs).then(
        (held) => {
          if (!held && !abort.signal.aborted) {
            deps.log?.(`job ${job.id} was cancelled or taken by another worker; stopping its build`, {
              jobId: job.id,
              workerId: worker.id,
            });
            abort.abort();
          }
        },
        (err: unknown) =>
          deps.log?.(`worker ${worker.id}: heartbeat of ${job.id} failed: ${String(err)}`, {
            level: 'error',
            jobId: job.id,
            workerId: worker.id,
          }),
      );
    }, leaseMs / 3);
    let outcome: WorkerOutcome = 'succeeded';
    let buildId: string | undefined;
    const attemptLog = deps.attemptLog?.(job);
    try {
      const source = jobSourceOf(job);
      const built = await kiln.build(
        {
          projectPath: join(deps.deliveryDir, job.project),
          allowDirty: false,
          force: job.force,
          worker: { id: worker.id, host, labels },
          job: { project: job.project, ref: jobRefOf(job) },
          remote: {
            repository: source.repository,
            ref: job.commit,
            branch: job.branch ?? undefined,
            path: source.path,
            fetch: 'if-missing', // the queue resolved the commit on the remote: a mirror that has it is not fetched
            credentials: source.credentials && {
              username: source.credentials.username,
              password: await resolveSecret(source.credentials.password, deps.secrets),
            },
          },
        },
        { signal: abort.signal, onEvent: attemptLog?.listener },
      );
      buildId = built.buildId;
    } catch (err) {
      outcome = outcomeOf(err);
      const details = isKilnError(err) ? err.details : undefined;
      buildId = typeof details?.buildId === 'string' ? details.buildId : undefined;
      deps.log?.(`job ${job.id} (${job.project} ${job.commit.slice(0, 12)}) ended ${outcome}: ${String(err)}`, {
        level: outcome === 'infra' ? 'error' : 'warn',
        jobId: job.id,
        workerId: worker.id,
        project: job.project,
        ...(buildId ? { buildId } : {}),
      });
    } finally {
      await attemptLog?.flush(); // before the job ends: a reader that sees it ended has every line
      clearInterval(beat);
      running.delete(job.id);
    }
    if (await queue.complete(job.id, worker.id, outcome, buildId)) {
      deps.onEnded?.(job.id);
    } else {
      deps.log?.(
        `job ${job.id}: worker ${worker.id} no longer held its lease; its outcome (${outcome}) was not recorded`,
      );
    }
  }

  async function loop(w: Reported): Promise<void> {
    await report(w);
    while (!stopping) {
      const lease = await queue.lease(w.id, labels, leaseMs).catch((err: unknown) => {
        deps.log?.(`worker ${w.id}: lease failed: ${String(err)}`);
        return undefined;
      });
      if (lease?.kind !== 'leased') {
        await idle.sleep(pollMs);
        continue;
      }
      Object.assign(w, { state: stopping ? 'stopping' : 'building', job: lease.job.id });
      await report(w);
      await runJob(w, lease.job);
      Object.assign(w, { state: stopping ? 'stopping' : 'idle', job: null });
      await report(w);
    }
    Object.assign(w, { state: 'stopped', job: null });
    await report(w);
  }

  return {
    start(count) {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const state: Reported = {
          id: `w-${randomUUID()}`,
          startedAt: new Date().toISOString(),
          state: 'idle',
          job: null,
        };
        workers.set(state.id, { state, done: loop(state) });
        ids.push(state.id);
      }
      return ids;
    },
    wake,
    stopBuild(jobId) {
      running.get(jobId)?.abort();
    },
    async drain() {
      stopping = true;
      const building = [...workers.values()].filter((w) => w.state.state === 'building');
      for (const w of building) w.state.state = 'stopping';
      await Promise.all(building.map((w) => report(w.state)));
      wake();
      await Promise.all([...workers.values()].map((w) => w.done));
      clearInterval(reporter);
    },
  };
}
