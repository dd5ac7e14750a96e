// The build service of `kiln serve`: builds of configured projects are submitted to the queue (their ref resolved to
// the exact commit first, so the queue can deduplicate) and run by in-process workers, each a loop that leases a
// job, builds it with the use case every surface calls, and reports how it ended.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Kiln } from '../app/index.js';
import {
  priorityClassOf,
  resolveSecret,
  type SecretSources,
  type ServerConfig,
  type ServerProject,
  supersedes,
} from '../config/index.js';
import { isKilnError, KilnError, type KilnErrorCode } from '../core/errors.js';
import { hostName } from '../platform/processes.js';
import type { Job, WorkerOutcome } from './job.js';
import type { AttemptLog } from './logs.js';
import type { BuildQueue } from './queue.js';

/** Git credentials of a remote source, as the build use case takes them. */
type RemoteCredentials = Parameters<Kiln['resolveRemote']>[0]['credentials'];

/** A request to build a configured project's ref (a branch, tag or commit). */
export interface BuildSubmission {
  readonly project: string;
  readonly ref: string;
  /** The commit the ref named when it was pushed (webhooks know it); resolved from the mirror when absent. */
  readonly commit?: string | undefined;
  readonly force?: boolean | undefined;
}

/** What a submission became: the job (new, or the active one of the same commit) and its place in the queue. */
export interface SubmittedBuild {
  readonly id: string;
  readonly deduplicated: boolean;
  readonly superseded: readonly string[];
  /** 1 for the next job any worker would take; 0 when it already runs. */
  readonly position: number;
}

/** One in-process worker as `GET /v1/workers` shows it. */
export interface WorkerState {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly state: 'idle' | 'building' | 'stopping';
  readonly job: string | null;
  readonly heartbeatAt: string | null;
}

export interface BuildService {
  submit(submission: BuildSubmission): Promise<SubmittedBuild>;
  /** Cancels a queued or running job; a build of it that runs in this process stops at once. */
  cancel(id: string): Promise<boolean>;
  readonly queue: BuildQueue;
  workers(): readonly WorkerState[];
  /** Starts `count` workers. */
  start(count: number): void;
  /** Stops taking jobs, and waits for the builds that run to end (SIGTERM drains). */
  drain(): Promise<void>;
}

/** Everything the service runs over. */
export interface ServiceDeps {
  readonly kiln: Kiln;
  readonly queue: BuildQueue;
  readonly config: ServerConfig;
  readonly secrets: SecretSources;
  /** Where builds deliver their files (one directory per project). */
  readonly deliveryDir: string;
  /** How long a lease lasts before another worker may take the job; heartbeats renew it at a third of that. */
  readonly leaseMs?: number;
  /** How long an idle worker waits before it asks the queue again (a submission wakes it at once). */
  readonly pollMs?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly log?: (message: string) => void;
  /** The log of a leased job's attempt, fed the build's events (logs.ts); none kept when absent. */
  readonly attemptLog?: ((job: Job) => AttemptLog) | undefined;
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

/** The service over a queue and a Kiln. */
export function buildService(deps: ServiceDeps): BuildService {
  const { kiln, queue, config } = deps;
  const leaseMs = deps.leaseMs ?? 60_000;
  const pollMs = deps.pollMs ?? 1_000;
  const labels = deps.labels ?? {};
  const workers = new Map<string, { state: WorkerState; done: Promise<void> }>();
  /** The builds this process runs, by job id: what cancelling one stops at once. */
  const running = new Map<string, AbortController>();
  let stopping = false;
  const wakers = new Set<() => void>();
  const wake = () => {
    for (const w of wakers) w();
  };

  const projectNamed = (name: string): ServerProject => {
    const project = config.projects.find((p) => p.name === name);
    if (!project) {
      throw new KilnError('KILN_NOT_FOUND', `no configured project is called "${name}"`, {
        hint: `kiln-server.yaml lists: ${config.projects.map((p) => p.name).join(', ')}`,
      });
    }
    return project;
  };
  const credentialsOf = async (project: ServerProject): Promise<RemoteCredentials> =>
    project.credentials && {
      username: project.credentials.username,
      password: await resolveSecret(project.credentials.password, deps.secrets),
    };

  async function submit(s: BuildSubmission): Promise<SubmittedBuild> {
    const project = projectNamed(s.project);
    const resolved = await kiln.resolveRemote({
      repository: project.repository,
      ref: s.commit ?? s.ref,
      path: project.path,
      credentials: await credentialsOf(project),
    });
    const branch = s.ref.startsWith('refs/heads/') ? s.ref.slice('refs/heads/'.length) : resolved.branch;
    const submitted = await queue.submit({
      project: project.name,
      commit: resolved.commit,
      branch,
      priority: branch === null ? config.defaultClass : priorityClassOf(project, branch),
      labels: project.labels,
      supersedable: branch !== null && supersedes(config, project, branch),
      force: Boolean(s.force),
      payload: { ref: s.ref },
    });
    wake();
    return { ...submitted, position: await positionOf(submitted.id) };
  }

  async function positionOf(id: string): Promise<number> {
    const job = await queue.get(id);
    if (job?.state !== 'queued') return 0;
    const queued = await queue.list({ states: ['queued'], limit: 10_000 });
    const rank = (j: Job) => config.classes.indexOf(j.priority);
    return queued.filter((j) => rank(j) < rank(job) || (rank(j) === rank(job) && j.seq <= job.seq)).length;
  }

  async function runJob(worker: WorkerState & { job: string }, job: Job): Promise<void> {
    const project = projectNamed(job.project);
    // Stopped when the job is cancelled here, or when a heartbeat finds the lease gone (cancelled elsewhere, or
    // taken by another worker after this one stalled): the build then ends as interrupted, and its outcome is void.
    const abort = new AbortController();
    running.set(job.id, abort);
    const beat = setInterval(() => {
      queue.heartbeat(job.id, worker.id, leaseMs).then(
        (held) => {
          if (held) Object.assign(worker, { heartbeatAt: new Date().toISOString() });
          else if (!abort.signal.aborted) {
            deps.log?.(`job ${job.id} was cancelled or taken by another worker; stopping its build`);
            abort.abort();
          }
        },
        (err: unknown) => deps.log?.(`worker ${worker.id}: heartbeat of ${job.id} failed: ${String(err)}`),
      );
    }, leaseMs / 3);
    let outcome: WorkerOutcome = 'succeeded';
    let buildId: string | undefined;
    const log = deps.attemptLog?.(job);
    try {
      const built = await kiln.build(
        {
          projectPath: join(deps.deliveryDir, project.name),
          allowDirty: false,
          force: job.force,
          worker: { id: worker.id, host: hostName(), labels: worker.labels },
          remote: {
            repository: project.repository,
            ref: job.commit,
            branch: job.branch ?? undefined,
            path: project.path,
            credentials: await credentialsOf(project),
          },
        },
        { signal: abort.signal, onEvent: log?.listener },
      );
      buildId = built.buildId;
    } catch (err) {
      outcome = outcomeOf(err);
      const details = isKilnError(err) ? err.details : undefined;
      buildId = typeof details?.buildId === 'string' ? details.buildId : undefined;
      deps.log?.(`job ${job.id} (${job.project} ${job.commit.slice(0, 12)}) ended ${outcome}: ${String(err)}`);
    } finally {
      await log?.flush(); // before the job ends: a reader that sees it ended has every line
      clearInterval(beat);
      running.delete(job.id);
    }
    if (!(await queue.complete(job.id, worker.id, outcome, buildId))) {
      deps.log?.(
        `job ${job.id}: worker ${worker.id} no longer held its lease; its outcome (${outcome}) was not recorded`,
      );
    }
  }

  async function loop(state: WorkerState & { job: string | null }): Promise<void> {
    while (!stopping) {
      const lease = await queue.lease(state.id, labels, leaseMs).catch((err: unknown) => {
        deps.log?.(`worker ${state.id}: lease failed: ${String(err)}`);
        return undefined;
      });
      if (lease?.kind !== 'leased') {
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            wakers.delete(done);
            resolve();
          };
          const timer = setTimeout(done, pollMs);
          wakers.add(done);
        });
        continue;
      }
      Object.assign(state, { state: 'building', job: lease.job.id, heartbeatAt: new Date().toISOString() });
      await runJob(state as WorkerState & { job: string }, lease.job);
      Object.assign(state, { state: stopping ? 'stopping' : 'idle', job: null });
    }
  }

  return {
    submit,
    queue,
    async cancel(id) {
      const cancelled = await queue.cancel(id);
      if (cancelled) running.get(id)?.abort();
      return cancelled;
    },
    workers: () => [...workers.values()].map((w) => ({ ...w.state })),
    start(count) {
      for (let i = 0; i < count; i++) {
        const state: WorkerState = { id: `w-${randomUUID()}`, labels, state: 'idle', job: null, heartbeatAt: null };
        workers.set(state.id, { state, done: loop(state) });
      }
    },
    async drain() {
      stopping = true;
      for (const w of workers.values()) if (w.state.state === 'building') Object.assign(w.state, { state: 'stopping' });
      wake();
      await Promise.all([...workers.values()].map((w) => w.done));
    },
  };
}
