// The build service of `kiln serve`: builds of configured projects are submitted to the queue (their ref resolved to
// the exact commit first, so the queue can deduplicate), and run by workers: this process's own (worker.ts), and
// `kiln worker`s on other machines sharing the store.
import type { Kiln } from '../app/index.js';
import {
  priorityClassOf,
  resolveSecret,
  type SecretSources,
  type ServerConfig,
  type ServerProject,
  supersedes,
} from '../config/index.js';
import { alarm } from '../core/alarm.js';
import { KilnError } from '../core/errors.js';
import type { Log } from '../core/log.js';
import type { Store } from '../store/index.js';
import type { Job } from './job.js';
import type { AttemptLog } from './logs.js';
import type { BuildQueue } from './queue.js';
import { jobPayload, listWorkers, type WorkerView, workerPool } from './worker.js';

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

export interface BuildService {
  submit(submission: BuildSubmission): Promise<SubmittedBuild>;
  /** Cancels a queued or running job; a build of it that runs in this process stops at once. */
  cancel(id: string): Promise<boolean>;
  readonly queue: BuildQueue;
  /** Every worker sharing the store (this process's and other machines'), as they last reported. */
  workers(): Promise<WorkerView[]>;
  /** Starts `count` workers in this process. */
  start(count: number): void;
  /**
   * Resolves when a job a worker of this process ran has ended (or a cancellation here ended one), or after `ms`:
   * what a follower of a job waits on between looks, so it sees an end here at once and any other within `ms`.
   */
  nextEnd(ms: number): Promise<void>;
  /** Stops taking jobs, and waits for the builds that run to end (SIGTERM drains). */
  drain(): Promise<void>;
}

/** Everything the service runs over. */
export interface ServiceDeps {
  readonly kiln: Kiln;
  readonly queue: BuildQueue;
  readonly store: Store;
  readonly config: ServerConfig;
  readonly secrets: SecretSources;
  /** Where builds deliver their files (one directory per project). */
  readonly deliveryDir: string;
  /** How long a lease lasts before another worker may take the job; heartbeats renew it at a third of that. */
  readonly leaseMs?: number;
  /** How long an idle worker waits before it asks the queue again (a submission wakes it at once). */
  readonly pollMs?: number;
  readonly labels?: Readonly<Record<string, string>>;
  /** Kiln's version, reported with the workers. */
  readonly version: string;
  readonly log?: Log;
  /** The log of a leased job's attempt, fed the build's events (logs.ts); none kept when absent. */
  readonly attemptLog?: ((job: Job) => AttemptLog) | undefined;
}

/** The service over a queue and a Kiln. */
export function buildService(deps: ServiceDeps): BuildService {
  const { kiln, queue, config } = deps;
  /** What followers of jobs sleep on between looks; rung when a job of this process ends. */
  const ends = alarm();
  const pool = workerPool({
    kiln,
    queue,
    store: deps.store,
    secrets: deps.secrets,
    deliveryDir: deps.deliveryDir,
    version: deps.version,
    labels: deps.labels,
    leaseMs: deps.leaseMs,
    pollMs: deps.pollMs,
    log: deps.log,
    attemptLog: deps.attemptLog,
    onEnded: ends.ring,
  });

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
      payload: jobPayload(project, s.ref),
    });
    pool.wake();
    return { ...submitted, position: await positionOf(submitted.id) };
  }

  async function positionOf(id: string): Promise<number> {
    const job = await queue.get(id);
    if (job?.state !== 'queued') return 0;
    const queued = await queue.list({ states: ['queued'], limit: 10_000 });
    const rank = (j: Job) => config.classes.indexOf(j.priority);
    return queued.filter((j) => rank(j) < rank(job) || (rank(j) === rank(job) && j.seq <= job.seq)).length;
  }

  return {
    submit,
    queue,
    async cancel(id) {
      const cancelled = await queue.cancel(id);
      if (cancelled) {
        pool.stopBuild(id);
        ends.ring();
      }
      return cancelled;
    },
    nextEnd: (ms) => ends.sleep(ms),
    workers: () => listWorkers(deps.store, new Date()),
    start: (count) => pool.start(count),
    drain: () => pool.drain(),
  };
}
