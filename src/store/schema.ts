// Table types of the provenance store: the one description both SQL dialects are queried through.
import type { ColumnType, Selectable } from 'kysely';
import type { EvidenceKind } from '../attest/evidence.js';

/**
 * One build attempt: written when it starts (`running`, with finished_at = started_at and duration 0), then completed
 * in one transaction when it ends (succeeded, failed, or blocked by the policy gate).
 */
export interface BuildsTable {
  id: string;
  project: string;
  repo_url: string;
  commit_sha: string;
  subdir: string;
  dirty: number;
  status: BuildStatus;
  exit_code: number | null;
  error: string | null;
  builder_id: string;
  runner: string;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  cache_hits: ColumnType<number, number | undefined, number>;
  cache_misses: ColumnType<number, number | undefined, number>;
  bytes_restored: ColumnType<number, number | undefined, number>;
  time_saved_ms: ColumnType<number, number | undefined, number>;
  /** What determines a succeeded build's artifacts (see app/build/reuse.ts); null for failed or dirty builds. */
  fingerprint: ColumnType<string | null, string | null | undefined, string | null>;
  /** The branch built (HEAD's, or `--rev` naming one); null for a detached HEAD or another revision. */
  branch: ColumnType<string | null, string | null | undefined, string | null>;
  /** The process that runs or ran the build (platform/processes.ts processIdentity); null for older builds. */
  owner: ColumnType<string | null, string | null | undefined, string | null>;
  /** The Kiln version that ran the build; null for builds recorded before it was kept. */
  kiln_version: ColumnType<string | null, string | null | undefined, string | null>;
  /** The control-plane worker that ran the build (id, host, labels as a JSON object); null for the local CLI. */
  worker_id: ColumnType<string | null, string | null | undefined, string | null>;
  worker_host: ColumnType<string | null, string | null | undefined, string | null>;
  worker_labels: ColumnType<string | null, string | null | undefined, string | null>;
  /** How many of its steps passed only after failing (kiln.yaml `retries`): a green build that is not a clean one. */
  flaky_steps: ColumnType<number, number | undefined, number>;
  /** Milliseconds from the steps' end to the artifacts' publication (M3); null for builds that published nothing. */
  publish_ms: ColumnType<number | null, number | null | undefined, number | null>;
  /** The kiln-server.yaml project and the ref (branch, tag or commit) a farm build was queued for; null for the CLI. */
  job_project: ColumnType<string | null, string | null | undefined, string | null>;
  job_ref: ColumnType<string | null, string | null | undefined, string | null>;
  /**
   * The scan's findings by severity (`{"critical": n, "high": n, "medium": n, "low": n, "unknown": n}`, JSON) of a
   * succeeded build's artifacts; null for other builds, and when no vulnerability data was imported.
   */
  findings: ColumnType<string | null, string | null | undefined, string | null>;
  /** 1 once its facts are in `metric_sums` (store/metrics.ts): an ended build is counted exactly once. */
  counted: ColumnType<number, number | undefined, number>;
}

/** Where a build attempt stands; `running` until it ends (or a later Kiln finds its process gone: `failed`). */
export type BuildStatus = 'running' | 'succeeded' | 'failed' | 'blocked';

/** A step's action key and how the cache answered; ingredients (JSON) explain the next miss. */
export interface StepActionsTable {
  build_id: string;
  step: string;
  project: string;
  action_key: string;
  cache: 'hit' | 'miss' | 'off';
  produced_by: string | null;
  outputs_digest: string | null;
  ingredients: string;
  explanation: string | null;
}

/** One step of a build. */
export interface StepsTable {
  build_id: string;
  name: string;
  status: 'succeeded' | 'cached' | 'failed' | 'skipped';
  exit_code: number | null;
  duration_ms: number;
  /** RFC 3339; null for builds recorded before step times were kept. */
  started_at: ColumnType<string | null, string | null | undefined, string | null>;
  finished_at: ColumnType<string | null, string | null | undefined, string | null>;
  log_path: string | null;
  position: number;
  /** How many times its command ran: 0 for a replayed or skipped step, more than 1 when retried (kiln.yaml `retries`). */
  attempts: ColumnType<number, number | undefined, number>;
  /** 1 when it passed only after failing (retried), else 0. */
  flaky: ColumnType<number, number | undefined, number>;
  /** 1 for a step with `network: true` (a dependency step), else 0. */
  network: ColumnType<number, number | undefined, number>;
}

/** One delivered artifact. */
export interface ArtifactsTable {
  build_id: string;
  name: string;
  digest: string;
  size: number;
  path: string;
  manifest_digest: string;
}

/** One piece of evidence (provenance bundle, SBOMs and their attestations) about an artifact. */
export interface EvidenceTable {
  build_id: string;
  artifact_name: string;
  kind: EvidenceKind;
  media_type: string;
  digest: string;
  path: string;
  manifest_digest: string;
}

/** One imported OSV record (its canonical JSON in `body`); the newest `modified` wins on re-import. */
export interface OsvRecordsTable {
  id: string;
  modified: string;
  withdrawn: string | null;
  body: string;
  /** Where it was imported from (`dir/file.json`, `all.zip:GHSA-….json`). */
  origin: string;
  import_seq: number;
}

/** Which packages a record affects, by OSV ecosystem and the name as matching compares it (see ecosystems/ecosystem.ts). */
export interface OsvPackagesTable {
  record_id: string;
  ecosystem: string;
  name: string;
}

/** One `kiln db import` that changed the data; its seq is the data's revision. */
export interface OsvImportsTable {
  seq: ColumnType<number, number | undefined, number>;
  source: string;
  imported_at: string;
  added: number;
  updated: number;
  unchanged: number;
  rejected: number;
}

/** The one row saying which revision of the vulnerability data the store holds, and how many records. */
export interface OsvStateTable {
  id: number;
  revision: number;
  records: number;
}

/** One promotion: an artifact manifest copied by digest to an environment, and the signed statement saying so. */
export interface PromotionsTable {
  id: string;
  project: string;
  artifact_name: string;
  manifest_digest: string;
  environment: string;
  /** `registry/repo@sha256:…` it was copied from, and `registry/repo@sha256:…` (tagged) it went to. */
  from_ref: string;
  to_ref: string;
  promoted_at: string;
  key_hint: string;
  statement_digest: string;
  /** When a server wrote its `promoted` notifications (null until one has; set at once for rows older than that). */
  announced_at: string | null;
}

/** One artifact manifest pushed to one registry repository (the first time; pushing again changes nothing). */
export interface PublicationsTable {
  manifest_digest: string;
  registry: string;
  repository: string;
  build_id: string;
  artifact_name: string;
  published_at: string;
}

/** The database as Kysely sees it. */
export interface KilnDatabase {
  builds: BuildsTable;
  steps: StepsTable;
  artifacts: ArtifactsTable;
  evidence: EvidenceTable;
  step_actions: StepActionsTable;
  osv_records: OsvRecordsTable;
  osv_packages: OsvPackagesTable;
  osv_imports: OsvImportsTable;
  osv_state: OsvStateTable;
  promotions: PromotionsTable;
  publications: PublicationsTable;
  api_tokens: ApiTokensTable;
  jobs: JobsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  notifications: NotificationsTable;
  schedule_runs: ScheduleRunsTable;
  workers: WorkersTable;
  farm_config: FarmConfigTable;
  build_logs: BuildLogsTable;
  metric_sums: MetricSumsTable;
  alerts: AlertsTable;
}

/**
 * The metrics' running sums (store/metrics.ts): per kind of fact and group (`dims`, JSON), the sums (`counts`, JSON)
 * of every build and job counted so far. Rows are added to them once, and deleting a counted row changes nothing.
 */
export interface MetricSumsTable {
  kind: string;
  dims: string;
  counts: string;
}

/** One alert as Alertmanager sent it to Kiln's alert log: one row per firing (fingerprint, start), its last status. */
export interface AlertsTable {
  fingerprint: string;
  starts_at: string;
  status: 'firing' | 'resolved';
  alertname: string;
  severity: string;
  project: string;
  team: string;
  /** JSON objects, as sent. */
  labels: string;
  annotations: string;
  ends_at: string | null;
  received_at: string;
}
export type AlertRow = Selectable<AlertsTable>;

/** A worker process of the farm as it last reported; times are RFC 3339, labels and health JSON. */
export interface WorkersTable {
  id: string;
  host: string;
  labels: string;
  kiln_version: string;
  started_at: string;
  heartbeat_at: string;
  /** `idle`, `building`, `stopping` (draining) or `stopped` (drained and gone). */
  state: string;
  job_id: string | null;
  health: string;
}
export type WorkerRow = Selectable<WorkersTable>;

/** The kiln-server.yaml a server runs by, for the workers sharing its store: one row (id 1), its text and path. */
export interface FarmConfigTable {
  id: number;
  text: string;
  file: string;
  updated_at: string;
}

/** One log line of a job's attempt, numbered from 1 within it (`seq`); `step` is null for Kiln's own lines. */
export interface BuildLogsTable {
  job_id: string;
  attempt: number;
  seq: number;
  step: string | null;
  stream: 'stdout' | 'stderr' | 'kiln';
  text: string;
  /** RFC 3339. */
  at: string;
}

/** The last tick a project's cron schedule fired for (ISO 8601 UTC), and the job it queued or why it could not. */
export interface ScheduleRunsTable {
  project: string;
  /** SHA-256 (hex) of the schedule's cron, time zone and ref: a changed schedule is a new one. */
  schedule_key: string;
  last_fire_at: string;
  /** Null while the submission runs, when it failed, or for a baseline (a schedule first seen, not fired). */
  last_job_id: string | null;
  last_error: string | null;
}

/** A webhook delivery acted on: the sender, its delivery id, when it came, and the jobs it queued (JSON). */
export interface WebhookDeliveriesTable {
  source: string;
  delivery_id: string;
  received_at: string;
  /** `[{ "project": NAME, "id": JOB }]`, `[]` until the delivery's builds are queued. */
  builds: string;
}

/**
 * One notification of a job's state change to one configured target (`notify:` of a project, by index): the CloudEvent
 * as sent (`body`), and how its delivery stands. Times are RFC 3339.
 */
export interface NotificationsTable {
  /** The delivery id (`webhook-id`), the same on every attempt. */
  id: string;
  /** The CloudEvent's `id` (shared by the targets of one state change). */
  event_id: string;
  /** A CloudEvent to a `notify:` target, or a commit status to GitHub (`url` is then the statuses URL). */
  kind: ColumnType<NotificationKind, NotificationKind | undefined, NotificationKind>;
  project: string;
  /** The index of the `notify:` target (0 for a commit status). */
  target: number;
  url: string;
  type: string;
  job_id: string;
  body: string;
  /** superseded: a commit status not sent because a newer one of the job was written (GitHub keeps the last). */
  status: 'pending' | 'delivered' | 'failed' | 'superseded';
  attempts: number;
  next_attempt_at: string;
  last_attempt_at: string | null;
  last_error: string | null;
  last_status: number | null;
  created_at: string;
  delivered_at: string | null;
}

/** What a notification row is sent as. */
export type NotificationKind = 'cloudevent' | 'github-status';

/** An API token of the control plane: its id (shown, never secret), the SHA-256 of the token, and its scope. */
export interface ApiTokensTable {
  id: string;
  token_sha256: string;
  scope: 'read' | 'trigger' | 'admin';
  name: string;
  created_at: string;
  revoked_at: ColumnType<string | null, string | null | undefined, string | null>;
}

/**
 * One job of the embedded build queue (src/farm/): its submission, where it stands, its lease, and every attempt.
 * Times are RFC 3339; labels, payload and attempts are JSON; booleans are 0 or 1.
 */
export interface JobsTable {
  id: string;
  /** Submission order, for FIFO within a priority class. */
  seq: number;
  project: string;
  commit_sha: string;
  branch: string | null;
  priority: string;
  labels: string;
  payload: string;
  force: number;
  supersedable: number;
  max_attempts: number;
  state: 'queued' | 'running' | 'succeeded' | 'failed' | 'blocked' | 'cancelled' | 'lost';
  attempt: number;
  submitted_at: string;
  available_at: string;
  worker_id: string | null;
  leased_at: string | null;
  lease_until: string | null;
  superseded_by: string | null;
  build_id: string | null;
  ended_at: string | null;
  attempts: string;
  /** How much of it `metric_sums` has: 0 nothing, 1 its queue wait (once started), 2 its attempts too (once ended). */
  counted: ColumnType<number, number | undefined, number>;
}

/** Row types as read back. */
export type BuildRow = Selectable<BuildsTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;
export type StepRow = Selectable<StepsTable>;
export type ArtifactRow = Selectable<ArtifactsTable>;
export type EvidenceRow = Selectable<EvidenceTable>;
export type StepActionRow = Selectable<StepActionsTable>;
export type JobRow = Selectable<JobsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
export type NotificationRow = Selectable<NotificationsTable>;
export type ScheduleRunRow = Selectable<ScheduleRunsTable>;
export type BuildLogRow = Selectable<BuildLogsTable>;
