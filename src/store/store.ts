// The provenance store: opens SQLite (WAL, synchronous=FULL; PostgreSQL is postgres.ts, either by open.ts), migrates,
// and records builds atomically.
import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { type Insertable, Kysely, Migrator, SqliteDialect, sql, type Transaction } from 'kysely';
import { KilnError } from '../core/errors.js';
import { migrationProvider } from './migrations.js';
import type {
  ArtifactRow,
  ArtifactsTable,
  BuildRow,
  BuildsTable,
  EvidenceRow,
  EvidenceTable,
  KilnDatabase,
  StepActionsTable,
  StepRow,
  StepsTable,
} from './schema.js';

/** An open store; `db` is the only handle queries use, whatever the dialect. */
export interface Store {
  readonly db: Kysely<KilnDatabase>;
  /** Which engine is behind `db`: the few dialect-specific steps (locks, WAL upkeep) branch on it, nothing else. */
  readonly dialect: StoreDialect;
  close(): Promise<void>;
}

/** The engines a store runs on. */
export type StoreDialect = 'sqlite' | 'postgres';

/** Everything known about a finished build, written together or not at all. */
export interface BuildRecord {
  readonly build: Insertable<BuildsTable>;
  readonly steps: readonly Insertable<StepsTable>[];
  readonly artifacts: readonly Insertable<ArtifactsTable>[];
  readonly evidence: readonly Insertable<EvidenceTable>[];
  readonly stepActions?: readonly Insertable<StepActionsTable>[];
}

/** A build with all its rows, as `kiln show` presents it. */
export interface BuildDetail {
  readonly build: BuildRow;
  readonly steps: readonly StepRow[];
  readonly artifacts: readonly ArtifactRow[];
  readonly evidence: readonly EvidenceRow[];
}

/** Opens (creating and migrating if needed) the SQLite store at `file`. */
export async function openSqliteStore(file: string): Promise<Store> {
  let sqlite: Database.Database | undefined;
  try {
    await fsp.mkdir(dirname(file), { recursive: true }); // fails when KILN_HOME is a file or not writable
    sqlite = new Database(file);
    // First: switching a new file to WAL takes a lock, and other processes may be opening it at this very moment.
    sqlite.pragma('busy_timeout = 10000');
    const mode = sqlite.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, not wal (does the file system support WAL?)`);
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
  } catch (cause) {
    sqlite?.close();
    throw new KilnError('KILN_STORE', `cannot open the store at ${file}: ${String(cause)}`, {
      cause,
      hint: 'check the file is a Kiln SQLite store and its directory is writable, or set KILN_HOME elsewhere',
    });
  }
  const db = new Kysely<KilnDatabase>({ dialect: new SqliteDialect({ database: sqlite }) });
  try {
    await migrate(db, sqlite, file);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return { db, dialect: 'sqlite', close: () => db.destroy() };
}

/**
 * Brings the schema up to date. `user_version` counts the migrations applied, so opening a current store is one
 * header read instead of the Migrator's queries. Any other value (0 in a store from before it was kept, a lower
 * count, a newer Kiln's higher one) goes through the Migrator, under the write lock taken first so a concurrent
 * opener waits for it (busy_timeout) rather than racing it, and `user_version` is set in the same transaction.
 */
async function migrate(db: Kysely<KilnDatabase>, sqlite: Database.Database, where: string): Promise<void> {
  const known = Object.keys(await migrationProvider.getMigrations()).length;
  const current = () => sqlite.pragma('user_version', { simple: true });
  if (current() === known) return;
  try {
    sqlite.exec('BEGIN IMMEDIATE');
    if (current() !== known) {
      const migrator = new Migrator({ db, provider: migrationProvider, disableTransactions: true });
      const { error } = await migrator.migrateToLatest();
      if (error) throw error;
      sqlite.pragma(`user_version = ${known}`);
    }
    sqlite.exec('COMMIT');
  } catch (cause) {
    if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
    throw new KilnError('KILN_STORE', `migrating the store at ${where} failed: ${String(cause)}`, {
      cause,
      hint: 'a newer Kiln may have written this store; upgrade Kiln or point KILN_HOME at a fresh directory',
    });
  }
}

/**
 * Records that a build started: its row, `running`, so the attempt stays on record even when the process dies or the
 * disk fills up before it ends (recordBuild completes it). The checkpoint that follows copies the write-ahead log
 * into the database, so the next writer reuses the log from its start: the small update that marks this build ended
 * (recordBuildEnd) then fits in space the files already have.
 */
export async function recordBuildStart(store: Store, build: Insertable<BuildsTable>): Promise<void> {
  await store.db.insertInto('builds').values(build).execute();
  if (store.dialect !== 'sqlite') return;
  await sql`pragma wal_checkpoint(passive)`.execute(store.db).catch(() => undefined); // room for the end; not needed
}

/**
 * Writes a build and all its rows in one transaction: after a crash, either all of it is there or none. The build's
 * row replaces the one recordBuildStart wrote (or is new, for a caller that never started one).
 */
export async function recordBuild(store: Store, record: BuildRecord): Promise<void> {
  const tx = await store.db.startTransaction().execute();
  try {
    await writeRecord(tx, record);
    await tx.commit().execute();
  } catch (err) {
    // SQLite has already rolled back when the disk was full (then ROLLBACK fails with "cannot rollback - no
    // transaction is active"): the error to report is the first one, whatever the rollback says.
    await tx
      .rollback()
      .execute()
      .catch(() => undefined);
    throw err;
  }
}

/** How a build ended, in as few bytes as possible: what recordBuildEnd writes when the whole record did not fit. */
export type BuildEnd = Pick<BuildRow, 'status' | 'exit_code' | 'error' | 'finished_at' | 'duration_ms'>;

/**
 * Marks a `running` build ended without its other rows (steps, artifacts): one row changed in place, for when the
 * whole record could not be written (a full disk). Returns whether the build was there to mark.
 */
export async function recordBuildEnd(store: Store, id: string, end: BuildEnd): Promise<boolean> {
  const r = await store.db
    .updateTable('builds')
    .set(end)
    .where('id', '=', id)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/**
 * Marks `running` builds whose process is gone (`gone(owner)`: killed, crashed, its machine restarted) as failed with
 * `error`, ended `at`; returns their ids. A build whose owner is unknown is left alone.
 */
export async function settleAbandonedBuilds(
  store: Store,
  gone: (owner: string) => boolean,
  ended: { readonly at: Date; readonly error: string },
): Promise<string[]> {
  const running = await store.db
    .selectFrom('builds')
    .select(['id', 'owner', 'started_at'])
    .where('status', '=', 'running')
    .execute();
  const abandoned = running.filter((b) => b.owner !== null && gone(b.owner));
  for (const b of abandoned) {
    await recordBuildEnd(store, b.id, {
      status: 'failed',
      exit_code: null,
      error: ended.error,
      finished_at: ended.at.toISOString(),
      duration_ms: Math.max(0, ended.at.getTime() - Date.parse(b.started_at)),
    });
  }
  return abandoned.map((b) => b.id);
}

async function writeRecord(tx: Transaction<KilnDatabase>, record: BuildRecord): Promise<void> {
  const { id: _id, ...rest } = record.build;
  await tx
    .insertInto('builds')
    .values(record.build)
    .onConflict((oc) => oc.column('id').doUpdateSet(rest))
    .execute();
  // In slices: one INSERT of a few thousand rows would pass the engines' limits on bound values (SQLite 32,766,
  // PostgreSQL 65,535), and a build with that many steps must still be recorded.
  for (const rows of slices(record.steps)) await tx.insertInto('steps').values(rows).execute();
  for (const rows of slices(record.artifacts)) await tx.insertInto('artifacts').values(rows).execute();
  for (const rows of slices(record.evidence)) await tx.insertInto('evidence').values(rows).execute();
  for (const rows of slices(record.stepActions ?? [])) await tx.insertInto('step_actions').values(rows).execute();
}

/** `rows` in slices of at most 500 (no table has 65 columns, so a slice binds fewer than 32,766 values). */
function slices<T>(rows: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/** The most recent builds first. */
export async function listBuilds(store: Store, opts: { limit: number; project?: string }): Promise<BuildRow[]> {
  let q = store.db.selectFrom('builds').selectAll();
  if (opts.project) q = q.where('project', '=', opts.project);
  return q.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(opts.limit).execute();
}

/** One build by id or unique id prefix, with its steps, artifacts and evidence. */
export async function getBuild(store: Store, idOrPrefix: string): Promise<BuildDetail | undefined> {
  if (idOrPrefix === '') return undefined;
  const matches = await store.db
    .selectFrom('builds')
    .selectAll()
    .where(sql<boolean>`id like ${likePrefix(idOrPrefix)} escape '\\'`)
    .limit(2)
    .execute();
  if (matches.length > 1 && matches[0]?.id !== idOrPrefix) {
    throw new KilnError('KILN_USAGE', `build id prefix "${idOrPrefix}" is ambiguous`, {
      hint: 'give more characters of the id (see `kiln builds`)',
    });
  }
  const build = matches[0];
  if (!build) return undefined;
  const [steps, artifacts, evidence] = await Promise.all([
    store.db.selectFrom('steps').selectAll().where('build_id', '=', build.id).orderBy('position').execute(),
    store.db.selectFrom('artifacts').selectAll().where('build_id', '=', build.id).orderBy('name').execute(),
    store.db
      .selectFrom('evidence')
      .selectAll()
      .where('build_id', '=', build.id)
      .orderBy('artifact_name')
      .orderBy('kind')
      .execute(),
  ]);
  return { build, steps, artifacts, evidence };
}

/** The latest succeeded build of `project` with this fingerprint, with its rows. */
export async function findBuildByFingerprint(
  store: Store,
  project: string,
  fingerprint: string,
): Promise<BuildDetail | undefined> {
  const row = await store.db
    .selectFrom('builds')
    .select('id')
    .where('project', '=', project)
    .where('fingerprint', '=', fingerprint)
    .where('status', '=', 'succeeded')
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? getBuild(store, row.id) : undefined;
}

/** A LIKE pattern matching strings that start with `prefix` literally (its wildcards escaped). */
/** A LIKE pattern matching what starts with `prefix` (its wildcards escaped; use with `escape '\\'`). */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
}

/** How many of a project's latest builds `lastStepActions` reads whole before searching step by step. */
const RECENT_BUILDS = 4;

/** The most recent recorded action (key ingredients, JSON) of each named step of a project, to explain misses. */
export async function lastStepActions(
  store: Store,
  project: string,
  steps: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (steps.length === 0) return out;
  // The latest build has usually recorded every step: read the few latest builds' rows by primary key, whatever
  // the length of the history, newest build first.
  const recent = await store.db
    .selectFrom('builds')
    .select('id')
    .where('project', '=', project)
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(RECENT_BUILDS)
    .execute();
  if (recent.length > 0) {
    const rows = await store.db
      .selectFrom('step_actions')
      .select(['build_id', 'step', 'project', 'ingredients'])
      .where(
        'build_id',
        'in',
        recent.map((b) => b.id),
      )
      .where('step', 'in', [...steps])
      .where('outputs_digest', 'is not', null) // a failed attempt left no entry to compare with
      .execute();
    for (const { id } of recent) {
      for (const row of rows) {
        if (row.build_id === id && row.project === project && !out.has(row.step)) out.set(row.step, row.ingredients);
      }
    }
  }
  const rest = steps.filter((step) => !out.has(step));
  // Fewer builds than asked for: the whole history was read. Else older builds may still hold the rest.
  if (rest.length === 0 || recent.length < RECENT_BUILDS) return out;
  for (const [step, ingredients] of await latestStepActions(store, project, rest)) out.set(step, ingredients);
  return out;
}

/** Each step's latest recorded action, searched through the step's whole history (the (project, step) index). */
async function latestStepActions(
  store: Store,
  project: string,
  steps: readonly string[],
): Promise<Map<string, string>> {
  // Rank the rows newest first over narrow columns, then read the ingredients of the winners alone.
  const ranked = store.db
    .selectFrom('step_actions')
    .innerJoin('builds', 'builds.id', 'step_actions.build_id')
    .select((eb) => [
      'step_actions.step',
      'step_actions.build_id',
      eb.fn
        .agg<number>('row_number')
        .over((over) =>
          over.partitionBy('step_actions.step').orderBy('builds.started_at', 'desc').orderBy('builds.id', 'desc'),
        )
        .as('rank'),
    ])
    .where('step_actions.project', '=', project)
    .where('step_actions.step', 'in', [...steps])
    .where('step_actions.outputs_digest', 'is not', null);
  const rows = await store.db
    .selectFrom(ranked.as('latest'))
    .innerJoin('step_actions', (join) =>
      join.onRef('step_actions.build_id', '=', 'latest.build_id').onRef('step_actions.step', '=', 'latest.step'),
    )
    .select(['step_actions.step', 'step_actions.ingredients'])
    .where('latest.rank', '=', 1)
    .execute();
  return new Map(rows.map((row) => [row.step, row.ingredients]));
}

/** A published artifact and where its CycloneDX SBOM is (delivered file and digest), for retroactive scans. */
export interface ArtifactSbom {
  readonly build_id: string;
  readonly project: string;
  readonly commit_sha: string;
  readonly name: string;
  readonly digest: string;
  readonly sbom_digest: string;
  readonly sbom_path: string;
}

/** Every artifact a succeeded build recorded, with its SBOM evidence; newest build first. */
export async function artifactSboms(
  store: Store,
  opts: { project?: string; buildId?: string },
): Promise<ArtifactSbom[]> {
  let q = store.db
    .selectFrom('artifacts')
    .innerJoin('builds', 'builds.id', 'artifacts.build_id')
    .innerJoin('evidence', (join) =>
      join
        .onRef('evidence.build_id', '=', 'artifacts.build_id')
        .onRef('evidence.artifact_name', '=', 'artifacts.name')
        .on('evidence.kind', '=', 'sbom'),
    )
    .select([
      'artifacts.build_id',
      'builds.project',
      'builds.commit_sha',
      'artifacts.name',
      'artifacts.digest',
      'evidence.digest as sbom_digest',
      'evidence.path as sbom_path',
    ])
    .where('builds.status', '=', 'succeeded');
  if (opts.project) q = q.where('builds.project', '=', opts.project);
  if (opts.buildId) q = q.where('builds.id', '=', opts.buildId);
  return q.orderBy('builds.started_at', 'desc').orderBy('builds.id', 'desc').orderBy('artifacts.name').execute();
}
