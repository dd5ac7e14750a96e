// The shapes the HTTP API answers with: one zod schema each, used to build the answers' types and the OpenAPI
// document served at /v1/openapi.json, so the two cannot drift apart.
import { z } from 'zod';

export const ErrorBody = z.object({
  error: z.object({
    code: z.string().describe('stable code (docs/reference/errors.md)'),
    message: z.string(),
    hint: z.string().nullable(),
  }),
});

export const BuildStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'blocked', 'cancelled', 'lost']);

export const Build = z.object({
  id: z.string(),
  project: z.string(),
  status: BuildStatus,
  repository: z.string().describe('the repository URL, without credentials'),
  commit: z.string(),
  subdir: z.string(),
  branch: z.string().nullable(),
  dirty: z.boolean(),
  startedAt: z.string(),
  finishedAt: z.string().nullable().describe('null while the build runs'),
  durationMs: z.number().int().nullable(),
  exitCode: z.number().int().nullable(),
  error: z.string().nullable(),
  runner: z.string(),
  cache: z.object({ hits: z.number().int(), misses: z.number().int() }),
  builderId: z.string().describe("the builder its provenance names: the control plane's for a worker's build"),
  worker: z
    .object({ id: z.string(), host: z.string(), labels: z.record(z.string(), z.string()) })
    .nullable()
    .describe('the control-plane worker that ran it; null for a build of the local CLI'),
  kilnVersion: z
    .string()
    .nullable()
    .describe('the Kiln version that ran it; null for builds recorded before it was kept'),
  flakySteps: z
    .number()
    .int()
    .describe('how many of its steps passed only after failing (kiln.yaml `retries`); 0 for a clean build'),
});

export const Artifact = z.object({
  name: z.string(),
  digest: z.string().describe('sha256 of the artifact file'),
  manifestDigest: z.string().describe('the OCI manifest that holds it'),
  size: z.number().int(),
});

export const Step = z.object({
  name: z.string(),
  status: z.enum(['succeeded', 'cached', 'failed', 'skipped']),
  exitCode: z.number().int().nullable(),
  durationMs: z.number().int(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  attempts: z.number().int().describe('how many times its command ran: 0 for a replayed or skipped step'),
  flaky: z.boolean().describe('it passed only after failing (kiln.yaml `retries`)'),
});

export const BuildDetail = Build.extend({ steps: z.array(Step), artifacts: z.array(Artifact) });

export const BuildList = z.object({ builds: z.array(Build) });

export const Health = z.object({ status: z.literal('ok'), version: z.string() });

export const BuildsQuery = z.object({
  project: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});

export const SubmitRequest = z.object({
  project: z.string().min(1).describe('a project of kiln-server.yaml'),
  ref: z.string().min(1).describe('a branch, tag or commit of its repository'),
  force: z.boolean().optional().describe('queue it even when the same commit is queued or running'),
});

export const Submitted = z.object({
  id: z.string().describe('the job id: GET /v1/builds/{id}'),
  deduplicated: z.boolean().describe('true when the same project and commit was already queued or running'),
  superseded: z.array(z.string()).describe('queued jobs of the same branch this one cancelled'),
  position: z.number().int().describe('1 for the next job a worker takes; 0 when it already runs'),
});

export const Job = z.object({
  id: z.string(),
  project: z.string(),
  status: BuildStatus,
  commit: z.string(),
  ref: z.string().nullable(),
  branch: z.string().nullable(),
  priority: z.string(),
  attempt: z.number().int().describe('attempts started so far'),
  submittedAt: z.string(),
  endedAt: z.string().nullable(),
  worker: z.string().nullable(),
  attempts: z
    .array(
      z.object({
        attempt: z.number().int(),
        worker: z.string(),
        startedAt: z.string(),
        endedAt: z.string(),
        outcome: z
          .enum(['succeeded', 'failed', 'blocked', 'infra', 'lost', 'cancelled'])
          .describe('`infra` and `lost` (its worker stopped reporting) are infrastructure failures, retried'),
        buildId: z.string().nullable(),
      }),
    )
    .describe('the attempts that ended, oldest first'),
  build: BuildDetail.nullable().describe('the recorded build of the last attempt, once a worker has one'),
  artifacts: z.array(Artifact).describe('the artifacts of that build, with digests (empty until it succeeded)'),
});

export const QueueView = z.object({
  classes: z.array(z.object({ priority: z.string(), depth: z.number().int(), oldestWaitMs: z.number().int() })),
  running: z.number().int(),
});

export const WorkerView = z.object({
  id: z.string().describe('fresh each time a worker process starts'),
  host: z.string(),
  labels: z.record(z.string(), z.string()),
  version: z.string().describe("the worker's Kiln version"),
  state: z
    .enum(['idle', 'building', 'stopping', 'stopped', 'gone'])
    .describe('as the worker last reported; `gone` when it has not reported for three intervals (killed, or lost)'),
  job: z.string().nullable().describe('the job it builds'),
  startedAt: z.string(),
  heartbeatAt: z.string().describe('its last report'),
  heartbeatAgeMs: z.number().int(),
  health: z
    .object({
      workDir: z.string(),
      workFreeBytes: z.number().nullable(),
      cacheDir: z.string(),
      cacheFreeBytes: z.number().nullable(),
      memFreeBytes: z.number(),
      memTotalBytes: z.number(),
      rssBytes: z.number(),
    })
    .partial()
    .describe('free bytes where its builds write and where its cache is, and memory, at its last report'),
});

export const WorkerList = z.object({ workers: z.array(WorkerView) });

export const WebhookBuild = z.object({
  project: z.string(),
  id: z.string().describe('the job id: GET /v1/builds/{id}'),
  deduplicated: z.boolean().describe('true when the same project and commit was already queued or running'),
});

export const WebhookAccepted = z.object({
  delivery: z.string().describe("the sender's delivery id"),
  builds: z
    .array(WebhookBuild)
    .describe('the jobs queued, one per project whose secret verified and that builds the ref'),
  ignored: z
    .array(z.object({ project: z.string(), reason: z.string() }))
    .describe('the verified projects that do not build the pushed ref'),
});

export const WebhookIgnored = z.object({
  delivery: z.string(),
  ignored: z.string().describe('why nothing is built: a ping, a deleted branch, an event other than a push'),
});

export const WebhookDuplicate = z.object({
  delivery: z.string(),
  duplicate: z.literal(true).describe('this delivery was received before; nothing new is queued'),
  builds: z
    .array(z.object({ project: z.string(), id: z.string() }))
    .describe('the jobs the first receipt of this delivery queued'),
});

export const DeliveriesQuery = z.object({
  project: z.string().min(1).optional(),
  status: z.enum(['pending', 'delivered', 'failed', 'superseded']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const Delivery = z.object({
  id: z.string().describe('the delivery id, sent as webhook-id on every attempt'),
  eventId: z.string().describe("the CloudEvent's id"),
  kind: z
    .enum(['cloudevent', 'github-status'])
    .describe('a CloudEvent to a notify target, or a commit status to GitHub (statuses.github)'),
  type: z.string().describe('the CloudEvent type, e.g. dev.kiln.build.succeeded (of a commit status: what it reports)'),
  project: z.string(),
  job: z.string().describe('the job whose state changed'),
  url: z.string().describe('the target URL (without credentials or query)'),
  status: z
    .enum(['pending', 'delivered', 'failed', 'superseded'])
    .describe(
      'failed: given up after the last attempt (or refused for good); superseded: a commit status not sent because a newer one of the job was',
    ),
  attempts: z.number().int(),
  lastStatus: z.number().int().nullable().describe("the HTTP status of the last attempt's answer"),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  lastAttemptAt: z.string().nullable(),
  nextAttemptAt: z.string().nullable().describe('when a pending delivery is tried again'),
  deliveredAt: z.string().nullable(),
});

export const DeliveryList = z.object({ deliveries: z.array(Delivery) });

export const LogsQuery = z.object({
  step: z.string().min(1).optional().describe("only this step's lines"),
});

export const LogLine = z.object({
  attempt: z.number().int().describe('the attempt of the job that wrote it (a retried job has several)'),
  step: z.string().nullable().describe("the step it belongs to; null for the build's own lines"),
  stream: z.enum(['stdout', 'stderr', 'kiln']).describe("the step's output stream, or kiln for Kiln's own lines"),
  text: z.string().describe('one line, as written (not escaped for a terminal)'),
  at: z.string().describe('when it was written (RFC 3339)'),
});

export const LogEnd = z.object({
  status: BuildStatus.describe('how the job ended; every line was sent before this event'),
});

export const AlertsQuery = z.object({
  status: z.enum(['firing', 'resolved']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const Alert = z.object({
  fingerprint: z.string().describe("Alertmanager's fingerprint of the alert's labels"),
  startsAt: z.string().describe('when this firing started (RFC 3339); with the fingerprint, what identifies it'),
  status: z.enum(['firing', 'resolved']).describe('as Alertmanager last sent it'),
  alertname: z.string(),
  severity: z.string().describe('page or ticket'),
  project: z.string(),
  team: z.string(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()).describe('summary, description and runbook_url'),
  endsAt: z.string().nullable().describe('when it resolved'),
  receivedAt: z.string().describe('when Kiln last heard of it'),
});

export const AlertList = z.object({ alerts: z.array(Alert) });

export const AlertsReceived = z.object({ received: z.number().int().describe('alerts recorded from this request') });

/** The named schemas of the API, as OpenAPI components refer to them. */
export const API_SCHEMAS = {
  Error: ErrorBody,
  BuildStatus,
  Build,
  Artifact,
  Step,
  BuildDetail,
  BuildList,
  Health,
  SubmitRequest,
  Submitted,
  Job,
  Queue: QueueView,
  Worker: WorkerView,
  WorkerList,
  WebhookBuild,
  WebhookAccepted,
  WebhookIgnored,
  WebhookDuplicate,
  Delivery,
  DeliveryList,
  LogLine,
  LogEnd,
  Alert,
  AlertList,
  AlertsReceived,
};
