// The provenance store (SQLite by default; Postgres later through the same Kysely queries).

export { type BuildRef, buildsNamedBy } from './lookup.js';
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
export { promotionsOf, recordPromotion, recordPublication } from './promotions.js';
export { deleteBuilds, type RetainedBuild, type RetentionRecords, retentionRecords } from './retention.js';
export type {
  ApiTokenRow,
  ArtifactRow,
  BuildRow,
  BuildStatus,
  EvidenceRow,
  KilnDatabase,
  PromotionsTable,
  StepActionRow,
  StepRow,
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
  settleAbandonedBuilds,
} from './store.js';
export { activeTokenByHash, listTokens, recordToken, revokeToken } from './tokens.js';
