// Downstream notifications: every state change of a job becomes a CloudEvents 1.0 event (structured JSON) for each
// `notify:` target of its project subscribed to it, and a commit status when the project has `statuses.github`. A
// succeeded job's build also announces where its artifacts went (`published`). The queue writes them to the store's
// outbox in the transaction that changes the job (notificationOutbox); a sender loop apart from the workers POSTs
// them (CloudEvents signed per Standard Webhooks, statuses with the GitHub token) and retries with exponential
// backoff (notificationSender). A receiver that is slow or down therefore never delays a build: at worst its events
// wait in the outbox. Delivery is at least once, with the same ids every attempt.

import { randomUUID } from 'node:crypto';
import type { NotifyEvent, SecretSources, ServerConfig, ServerProject } from '../config/index.js';
import type { Log } from '../core/log.js';
import {
  announcePromotion,
  claimNotification,
  dueNotifications,
  insertNotificationRows,
  type JobsTx,
  jobOfManifest,
  listNotifications,
  type NotificationFilter,
  type NotificationRow,
  publishedArtifactsOf,
  type Store,
  unannouncedPromotions,
  updateNotification,
} from '../store/index.js';
import { githubStatusBody, githubStatusUrl } from './github-status.js';
import type { Job } from './job.js';
import { jobFromRow } from './job-row.js';
import { outboxRequest } from './outbox-requests.js';
import {
  type ArtifactTargetName,
  derivedEventId,
  type PublishedArtifactData,
  publishedArtifacts,
  publishedEventId,
} from './published.js';
import type { JobChangeHook } from './store-queue.js';

export { notifySigningKey, standardWebhookHeaders } from './notify-signing.js';

/** The event a job's new state is, as `notify: events` names it; `lost` (out of attempts) counts as `failed`. */
export function notifyEventOf(job: Pick<Job, 'state'>): NotifyEvent | undefined {
  switch (job.state) {
    case 'queued':
      return 'queued';
    case 'running':
      return 'started';
    case 'lost':
      return 'failed';
    case 'succeeded':
    case 'failed':
    case 'blocked':
    case 'cancelled':
      return job.state;
    default:
      return undefined;
  }
}

/** A CloudEvents 1.0 event in structured mode, as sent. */
export interface BuildCloudEvent {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject: string;
  readonly time: string;
  readonly datacontenttype: 'application/json';
  readonly data: {
    readonly jobId: string;
    readonly project: string;
    readonly commit: string;
    readonly branch: string | null;
    readonly status: Job['state'];
    readonly attempt: number;
    readonly buildId: string | null;
    /** Name and digest of each artifact; a `published` event adds the manifest digest and where it is. */
    readonly artifacts: readonly ({ readonly name: string; readonly digest: string } | PublishedArtifactData)[];
    /** A `promoted` event's promotion: of which artifact manifest, to which environment, from where to where. */
    readonly promotion?: PromotionData;
  };
}

/** A promotion as a `promoted` event carries it. */
export interface PromotionData {
  readonly artifact: string;
  readonly manifestDigest: string;
  readonly environment: string;
  /** `registry/repository@sha256:…` it was copied from, and where it went (tagged for the environment). */
  readonly from: string;
  readonly to: string;
  readonly promotedAt: string;
  /** The digest of the signed promotion statement attached to it. */
  readonly statementDigest: string;
}

/** The CloudEvent of `job` having reached its state: `source` is kiln://HOST/projects/NAME, `type` dev.kiln.build.EVENT. */
export function buildCloudEvent(input: {
  readonly id: string;
  readonly host: string;
  readonly job: Job;
  readonly event: NotifyEvent;
  readonly time: Date;
  readonly artifacts?: readonly ({ readonly name: string; readonly digest: string } | PublishedArtifactData)[];
  readonly promotion?: PromotionData;
}): BuildCloudEvent {
  const { job } = input;
  return {
    specversion: '1.0',
    id: input.id,
    source: `kiln://${input.host}/projects/${encodeURIComponent(job.project)}`,
    type: `dev.kiln.build.${input.event}`,
    subject: job.id,
    time: input.time.toISOString(),
    datacontenttype: 'application/json',
    data: {
      jobId: job.id,
      project: job.project,
      commit: job.commit,
      branch: job.branch,
      status: job.state,
      attempt: job.attempt,
      buildId: job.buildId,
      artifacts: (input.artifacts ?? []).map((a) => ('manifestDigest' in a ? a : { name: a.name, digest: a.digest })),
      ...(input.promotion && { promotion: input.promotion }),
    },
  };
}

/**
 * The queue hook that writes, in the queue's transaction, one outbox row per target subscribed to the job's new
 * state (with the artifact digests of its build once it has ended with one), one `published` event per target
 * subscribed to it when the job succeeded with artifacts (written with the success, so exactly once), and the
 * project's commit status.
 */
export function notificationOutbox(options: {
  readonly config: ServerConfig;
  readonly host: string;
  /** Where this server's builds publish (the `published` event names it); only registry copies when undefined. */
  readonly artifactTarget?: ArtifactTargetName;
  readonly newId?: () => string;
}): JobChangeHook {
  const newId = options.newId ?? (() => randomUUID());
  return async (db: JobsTx, job: Job, at: number) => {
    const event = notifyEventOf(job);
    const project = options.config.projects.find((p) => p.name === job.project);
    if (!event || !project) return;
    const subscribed = (e: NotifyEvent) => project.notify.some((t) => t.events.includes(e));
    if (!subscribed(event) && !subscribed('published') && !project.statuses.github) return;
    const ended = job.state !== 'queued' && job.state !== 'running';
    const recorded = ended && job.buildId !== null ? await publishedArtifactsOf(db, job.buildId) : [];
    const time = new Date(at);
    const row = (e: BuildCloudEvent, url: string, target: number, body: string) =>
      notificationRow({ id: newId(), event: e, url, target, body, time });
    const events = (e: BuildCloudEvent, name: NotifyEvent) => cloudEventRows(project, e, name, time, newId);

    const rows: NotificationInsert[] = [];
    if (job.state === 'succeeded' && recorded.length > 0) {
      const artifacts = publishedArtifacts(options.artifactTarget, recorded);
      const id = publishedEventId(job.id);
      rows.push(
        ...events(buildCloudEvent({ id, host: options.host, job, event: 'published', time, artifacts }), 'published'),
      );
    }
    const artifacts = recorded.map((a) => ({ name: a.name, digest: a.digest }));
    const cloudEvent = buildCloudEvent({ id: newId(), host: options.host, job, event, time, artifacts });
    rows.push(...events(cloudEvent, event));
    const github = project.statuses.github;
    if (github) {
      const body = JSON.stringify(githubStatusBody(github, job, recorded.length));
      rows.push({ ...row(cloudEvent, githubStatusUrl(github, job.commit), 0, body), kind: 'github-status' as const });
    }
    await insertNotificationRows(db, rows);
  };
}

/** An outbox row, as inserted. */
type NotificationInsert = Parameters<typeof insertNotificationRows>[1][number];

/** The pending outbox row of `event` (of job `event.subject`) for one target. */
function notificationRow(input: {
  id: string;
  event: BuildCloudEvent;
  url: string;
  target: number;
  body: string;
  time: Date;
}): NotificationInsert {
  const { event, time } = input;
  return {
    id: input.id,
    kind: 'cloudevent',
    event_id: event.id,
    project: event.data.project,
    target: input.target,
    url: input.url,
    type: event.type,
    job_id: event.data.jobId,
    body: input.body,
    status: 'pending',
    attempts: 0,
    next_attempt_at: time.toISOString(),
    last_attempt_at: null,
    last_error: null,
    last_status: null,
    created_at: time.toISOString(),
    delivered_at: null,
  };
}

/** One row per `notify:` target of `project` subscribed to `name`. */
function cloudEventRows(
  project: ServerProject,
  event: BuildCloudEvent,
  name: NotifyEvent,
  time: Date,
  newId: () => string,
): NotificationInsert[] {
  return project.notify.flatMap((t, index) =>
    t.events.includes(name)
      ? [notificationRow({ id: newId(), event, url: t.url, target: index, body: JSON.stringify(event), time })]
      : [],
  );
}

/**
 * Announces the promotions no server has announced yet (`kiln promote` records them, on any machine sharing the
 * store): for each, in the transaction that marks it announced (so exactly one server does), a `promoted` event per
 * target subscribed to it of the project whose job built the artifact. A promotion of an artifact no job built (a
 * CLI build) names no configured project, so it is only marked. Returns how many were announced here.
 */
export async function announcePromotions(
  store: Store,
  options: { readonly config: ServerConfig; readonly host: string; readonly now: Date; readonly newId?: () => string },
): Promise<number> {
  const newId = options.newId ?? (() => randomUUID());
  let announced = 0;
  for (const p of await unannouncedPromotions(store, 100)) {
    const claimed = await announcePromotion(store, p.id, options.now.toISOString(), async (tx) => {
      const row = await jobOfManifest(tx, p.manifest_digest);
      const job = row && jobFromRow(row);
      const project = job && options.config.projects.find((c) => c.name === job.project);
      if (!job || !project?.notify.some((t) => t.events.includes('promoted'))) return;
      const recorded = job.buildId === null ? [] : await publishedArtifactsOf(tx, job.buildId);
      const artifacts = recorded
        .filter((a) => a.manifestDigest === p.manifest_digest)
        .map((a) => ({ name: a.name, digest: a.digest }));
      const time = new Date(p.promoted_at);
      const promotion: PromotionData = {
        artifact: p.artifact_name,
        manifestDigest: p.manifest_digest,
        environment: p.environment,
        from: p.from_ref,
        to: p.to_ref,
        promotedAt: p.promoted_at,
        statementDigest: p.statement_digest,
      };
      const event = buildCloudEvent({
        id: derivedEventId(`kiln promoted ${p.id}`),
        host: options.host,
        job,
        event: 'promoted',
        time,
        artifacts,
        promotion,
      });
      await insertNotificationRows(tx, cloudEventRows(project, event, 'promoted', options.now, newId));
    });
    if (claimed) announced++;
  }
  return announced;
}

/** What the sender delivers over, and how persistently. */
export interface SenderDeps {
  readonly store: Store;
  readonly config: ServerConfig;
  readonly secrets: SecretSources;
  readonly now?: () => Date;
  /** How often the outbox is read when nothing wakes the sender (default 1 s). */
  readonly pollMs?: number;
  /** How long one POST may take before it counts as failed (default 10 s). */
  readonly timeoutMs?: number;
  /** Attempts before a notification is given up as failed (default 10). */
  readonly maxAttempts?: number;
  /** The wait after the first failed attempt, doubled after each next one (default 2 s) … */
  readonly backoffMs?: number;
  /** … up to this (default 10 min). */
  readonly maxBackoffMs?: number;
  /** Notifications sent at once at most (default 8). */
  readonly parallel?: number;
  readonly log?: Log;
  /** Sent as User-Agent to GitHub (default "kiln"). */
  readonly userAgent?: string;
  /** Writes the outbox rows of what changed outside the queue (promotions); called at most once per `pollMs`. */
  readonly announce?: () => Promise<unknown>;
}

/** The sender loop: started once, stopped once (in-flight POSTs are aborted; their rows stay pending). */
export interface NotificationSender {
  start(): void;
  /** Reads the outbox now instead of at the next poll. */
  wake(): void;
  stop(): Promise<void>;
}

/** The wait before attempt `attempts + 1`, after `attempts` failed ones. */
export function backoffDelay(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

/** Delivers the outbox's due notifications until stopped. */
export function notificationSender(deps: SenderDeps): NotificationSender {
  const clock = deps.now ?? (() => new Date());
  const pollMs = deps.pollMs ?? 1_000;
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const maxAttempts = deps.maxAttempts ?? 10;
  const backoffMs = deps.backoffMs ?? 2_000;
  const maxBackoffMs = deps.maxBackoffMs ?? 10 * 60_000;
  const parallel = deps.parallel ?? 8;
  const userAgent = deps.userAgent ?? 'kiln';
  /** Job and URL of each commit status in flight: the next one of the same job waits, so GitHub gets them in order. */
  const statusesInFlight = new Set<string>();
  const statusKey = (row: NotificationRow) => (row.kind === 'github-status' ? `${row.job_id} ${row.url}` : undefined);
  const stopping = new AbortController();
  const inFlight = new Map<string, Promise<void>>();
  let waker: (() => void) | undefined;
  let loop: Promise<void> | undefined;

  const wake = () => waker?.();
  const pause = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, pollMs);
      function done() {
        clearTimeout(timer);
        waker = undefined;
        resolve();
      }
      waker = done;
    });

  async function attempt(row: NotificationRow): Promise<void> {
    const at = clock();
    // Servers sharing a store read the same due rows: one claims this attempt, the others leave it. A claim held by
    // a server that stopped mid-attempt lapses after twice the timeout, and the row is due again.
    const until = new Date(at.getTime() + 2 * timeoutMs).toISOString();
    if (!(await claimNotification(deps.store, row.id, row.next_attempt_at, until))) return;
    let error: string | null = null;
    let status: number | null = null;
    let afterMs: number | undefined;
    try {
      const request = await outboxRequest(row, at, { ...deps, userAgent, now: clock });
      if (request.kind === 'skip') {
        await finish(row, at, request.status, request.error, null);
        return;
      }
      const response = await fetch(row.url, {
        method: 'POST',
        headers: request.headers,
        body: row.body,
        redirect: 'manual',
        signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(timeoutMs)]),
      });
      status = response.status;
      const verdict = await request.judge(response);
      if (verdict.kind === 'delivered') {
        await finish(row, at, 'delivered', null, status);
        return;
      }
      if (verdict.kind === 'refused') {
        deps.log?.(`notification ${row.id} (${row.type}) to ${displayUrl(row.url)} refused: ${verdict.error}`);
        await finish(row, at, 'failed', verdict.error, status);
        return;
      }
      error = verdict.error;
      afterMs = verdict.afterMs;
    } catch (err) {
      if (stopping.signal.aborted) return; // stopped mid-attempt: not counted; the row stays due for the next start
      const name = (err as { name?: unknown } | null)?.name;
      error = name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : describe(err);
    }
    const attempts = row.attempts + 1;
    const giveUp = attempts >= maxAttempts;
    if (giveUp) {
      deps.log?.(`notification ${row.id} (${row.type}) to ${displayUrl(row.url)} failed ${attempts} times: ${error}`);
    }
    const wait = Math.max(backoffDelay(attempts, backoffMs, maxBackoffMs), afterMs ?? 0);
    await updateNotification(deps.store, row.id, {
      status: giveUp ? 'failed' : 'pending',
      attempts,
      next_attempt_at: new Date(at.getTime() + wait).toISOString(),
      last_attempt_at: at.toISOString(),
      last_error: error,
      last_status: status,
      delivered_at: null,
    });
  }

  /** Records a row's end: delivered, failed at once, or superseded (not sent: not counted as an attempt). */
  async function finish(
    row: NotificationRow,
    at: Date,
    status: 'delivered' | 'failed' | 'superseded',
    error: string | null,
    httpStatus: number | null,
  ): Promise<void> {
    await updateNotification(deps.store, row.id, {
      status,
      attempts: status === 'superseded' ? row.attempts : row.attempts + 1,
      next_attempt_at: row.next_attempt_at,
      last_attempt_at: at.toISOString(),
      last_error: error,
      last_status: httpStatus,
      delivered_at: status === 'delivered' ? clock().toISOString() : null,
    });
  }

  async function run(): Promise<void> {
    let announcedAt = Number.NEGATIVE_INFINITY;
    while (!stopping.signal.aborted) {
      // Not on every wake (each job change wakes the sender): promotions are looked for once per poll.
      if (deps.announce && Date.now() - announcedAt >= pollMs) {
        announcedAt = Date.now();
        await deps.announce().catch((err: unknown) => {
          deps.log?.(`notifications: cannot announce promotions: ${describe(err)}`);
        });
      }
      const room = parallel - inFlight.size;
      const due =
        room > 0
          ? await dueNotifications(deps.store, clock().toISOString(), room + inFlight.size).catch((err: unknown) => {
              deps.log?.(`notifications: cannot read the outbox: ${describe(err)}`);
              return [];
            })
          : [];
      const free = due.filter((r) => !inFlight.has(r.id));
      for (const row of free.slice(0, room)) {
        const key = statusKey(row);
        if (key !== undefined && statusesInFlight.has(key)) continue;
        if (key !== undefined) statusesInFlight.add(key);
        const sent = attempt(row)
          .catch((err: unknown) => deps.log?.(`notification ${row.id}: cannot record its attempt: ${describe(err)}`))
          .finally(() => {
            inFlight.delete(row.id);
            if (key !== undefined) statusesInFlight.delete(key);
            wake();
          });
        inFlight.set(row.id, sent);
      }
      if (!stopping.signal.aborted) await pause();
    }
  }

  return {
    start() {
      loop ??= run();
    },
    wake,
    async stop() {
      stopping.abort();
      wake();
      await Promise.all([loop, ...inFlight.values()]);
    },
  };
}

/** A delivery as `GET /v1/deliveries` shows it. */
export interface DeliveryView {
  readonly id: string;
  readonly eventId: string;
  readonly kind: NotificationRow['kind'];
  readonly type: string;
  readonly project: string;
  readonly job: string;
  readonly url: string;
  readonly status: NotificationRow['status'];
  readonly attempts: number;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly lastAttemptAt: string | null;
  readonly nextAttemptAt: string | null;
  readonly deliveredAt: string | null;
}

/** Recent deliveries of the outbox, newest first. */
export async function listDeliveries(store: Store, filter: NotificationFilter = {}): Promise<DeliveryView[]> {
  return (await listNotifications(store, filter)).map((row) => ({
    id: row.id,
    eventId: row.event_id,
    kind: row.kind,
    type: row.type,
    project: row.project,
    job: row.job_id,
    url: displayUrl(row.url),
    status: row.status,
    attempts: row.attempts,
    lastStatus: row.last_status,
    lastError: row.last_error,
    createdAt: row.created_at,
    lastAttemptAt: row.last_attempt_at,
    nextAttemptAt: row.status === 'pending' ? row.next_attempt_at : null,
    deliveredAt: row.delivered_at,
  }));
}

/** A target URL without what may be secret in it (user, password, query). */
function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
  const message = err instanceof Error ? err.message : String(err);
  return detail ? `${message} (${detail})` : message;
}
