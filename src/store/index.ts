// The provenance store (SQLite by default; PostgreSQL through the same Kysely queries and migrations).

export { alertRows, recordAlerts } from './alerts.js';
export { type PrunedHistory, pruneHistory } from './history.js';
export {
  activeJobRows,
  inJobsTransaction,
  insertJobRow,
  type JobFilter,
  type JobsTx,
  jobRow,
  listJobRows,
  nextJobSeq,
  updateJobRow,
} from './jobs.js';
export { appendLogLines, type LogCursor, type LogQuery, readLogLines } from './logs.js';
export { type BuildRef, buildsNamedBy } from './lookup.js';
export {
  type CurrentFacts,
  currentFacts,
  type FactGroup,
  type MetricFacts,
  metricFacts,
} from './metrics.js';
export {
  claimNotification,
  dueNotifications,
  insertNotificationRows,
  listNotifications,
  type NotificationFilter,
  publishedArtifactsOf,
  statusNotificationsOf,
  updateNotification,
} from './notifications.js';
export { openStore } from './open.js';
export {
  beginOsvImport,
  finishOsvImport,
  lastOsvImport,
  type OsvRow,
  type OsvUpsertCounts,
  osvDataState,
  osvRecordsFor,
  upsertOsvRecords,
} from './osv.js';
export { isPostgresUrl, redactDatabaseUrl } from './postgres-url.js';
export {
  announcePromotion,
  jobOfManifest,
  promotionsOf,
  recordPromotion,
  recordPublication,
  unannouncedPromotions,
} from './promotions.js';
export { deleteBuilds, type RetainedBuild, type RetentionRecords, retentionRecords } from './retention.js';
export {
  claimScheduleRun,
  recordScheduleBaseline,
  recordScheduleOutcome,
  type ScheduleRun,
  scheduleRuns,
} from './schedules.js';
export type {
  AlertRow,
  ApiTokenRow,
  ArtifactRow,
  BuildLogRow,
  BuildLogsTable,
  BuildRow,
  BuildStatus,
  EvidenceRow,
  JobRow,
  JobsTable,
  KilnDatabase,
  NotificationKind,
  NotificationRow,
  NotificationsTable,
  PromotionsTable,
  ScheduleRunRow,
  StepActionRow,
  StepRow,
  WebhookDeliveryRow,
  WorkerRow,
} from './schema.js';
export {
  type ArtifactSbom,
  artifactSboms,
  type BuildDetail,
  type BuildRecord,
  findBuildByFingerprint,
  getBuild,
  lastStepActions,
  listBuilds,
  openSqliteStore,
  recordBuild,
  recordBuildEnd,
  recordBuildStart,
  type Store,
  type StoreDialect,
  settleAbandonedBuilds,
} from './store.js';
export { activeTokenByHash, listTokens, recordToken, revokeToken } from './tokens.js';
export {
  claimWebhookDelivery,
  type DeliveredBuild,
  recordWebhookBuilds,
  releaseWebhookDelivery,
  webhookDelivery,
} from './webhooks.js';
export { farmConfig, publishFarmConfig, reportWorker, WORKER_REPORT_MS, workerRows } from './workers.js';
