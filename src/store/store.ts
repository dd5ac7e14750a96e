// The provenance store: opens SQLite (WAL, synchronous=FULL), migrates, and records builds atomically.
import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { type Insertable, Kysely, Migrator, SqliteDialect, sql } from 'kysely';
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
  close(): Promise<void>;
}

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
  await fsp.mkdir(dirname(file), { recursive: true });
  let sqlite: Database.Database | undefined;
  try {
    sqlite = new Database(file);
    const mode = sqlite.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, not wal (does the file system support WAL?)`);
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 10000');
  } catch (cause) {
    sqlite?.close();
    throw new KilnError('E_STORE', `cannot open the store at ${file}: ${String(cause)}`, {
      cause,
      hint: 'check the file is a Kiln SQLite store and its directory is writable, or set KILN_HOME elsewhere',
    });
  }
  const db = new Kysely<KilnDatabase>({ dialect: new SqliteDialect({ database: sqlite }) });
  try {
    await migrate(db, file);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return { db, close: () => db.destroy() };
}

async function migrate(db: Kysely<KilnDatabase>, where: string): Promise<void> {
  const { error } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  if (error) {
    throw new KilnError('E_STORE', `migrating the store at ${where} failed: ${String(error)}`, {
      cause: error,
      hint: 'a newer Kiln may have written this store; upgrade Kiln or point KILN_HOME at a fresh directory',
    });
  }
}

/** Writes a build and all its rows in one transaction: after a crash, either all of it is there or none. */
export async function recordBuild(store: Store, record: BuildRecord): Promise<void> {
  await store.db.transaction().execute(async (tx) => {
    await tx.insertInto('builds').values(record.build).execute();
    if (record.steps.length)
      await tx
        .insertInto('steps')
        .values([...record.steps])
        .execute();
    if (record.artifacts.length)
      await tx
        .insertInto('artifacts')
        .values([...record.artifacts])
        .execute();
    if (record.evidence.length)
      await tx
        .insertInto('evidence')
        .values([...record.evidence])
        .execute();
    if (record.stepActions?.length)
      await tx
        .insertInto('step_actions')
        .values([...record.stepActions])
        .execute();
  });
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
    throw new KilnError('E_USAGE', `build id prefix "${idOrPrefix}" is ambiguous`, {
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
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
}

/** The most recent recorded action (key ingredients, JSON) of each named step of a project, to explain misses. */
export async function lastStepActions(
  store: Store,
  project: string,
  steps: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (steps.length === 0) return out;
  const rows = await store.db
    .selectFrom('step_actions')
    .innerJoin('builds', 'builds.id', 'step_actions.build_id')
    .select(['step_actions.step', 'step_actions.ingredients'])
    .where('step_actions.project', '=', project)
    .where('step_actions.step', 'in', [...steps])
    .where('step_actions.outputs_digest', 'is not', null) // a failed attempt left no entry to compare with
    .orderBy('builds.started_at', 'desc')
    .orderBy('builds.id', 'desc')
    .execute();
  for (const row of rows) if (!out.has(row.step)) out.set(row.step, row.ingredients);
  return out;
}
