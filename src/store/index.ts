// The provenance store (SQLite by default; Postgres later through the same Kysely queries).

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
export type { ArtifactRow, BuildRow, EvidenceRow, KilnDatabase, StepActionRow, StepRow } from './schema.js';
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
  type Store,
} from './store.js';
