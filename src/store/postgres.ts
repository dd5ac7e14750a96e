// The store on PostgreSQL: a pg pool behind Kysely's PostgresDialect, migrated by Kysely's Migrator (which holds
// PostgreSQL's advisory lock while it runs, so any number of servers and workers may open one database at once).
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { KilnError } from '../core/errors.js';
import { migrationProvider } from './migrations.js';
import { redactDatabaseUrl } from './postgres-url.js';
import type { KilnDatabase } from './schema.js';
import type { Store } from './store.js';

/** int8 (counts, sizes, sequence numbers, bigint columns and aggregates) as JS numbers, for this pool only. */
const INT8_OID = 20;
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** Opens (migrating if needed) the PostgreSQL store at `url`. */
export async function openPostgresStore(url: string): Promise<Store> {
  const shown = redactDatabaseUrl(url);
  const pool = new pg.Pool({ connectionString: url, types: TYPES, max: 10, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => undefined); // an idle client's lost connection: the next query reports it
  try {
    const client = await pool.connect();
    client.release();
  } catch (cause) {
    await pool.end().catch(() => undefined);
    throw new KilnError(
      'KILN_STORE',
      `cannot connect to the PostgreSQL store at ${shown}: ${safeMessage(cause, url)}`,
      {
        hint: 'check the server is running and reachable, and the user, password and database in the URL (--database or KILN_DATABASE)',
      },
    );
  }
  const db = new Kysely<KilnDatabase>({ dialect: new PostgresDialect({ pool }) });
  try {
    await checkCollation(db, shown);
    const { error } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
    if (error) {
      throw new KilnError(
        'KILN_STORE',
        `migrating the PostgreSQL store at ${shown} failed: ${safeMessage(error, url)}`,
        {
          hint: 'a newer Kiln may have migrated this database; upgrade Kiln, or give the URL of another database',
        },
      );
    }
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return { db, dialect: 'postgres', close: () => db.destroy() };
}

/**
 * Refuses a database whose text order is not byte order (the C collation, as SQLite's BINARY): ids, names and times
 * are ordered and compared as text, and must come back in the same order on both dialects.
 */
async function checkCollation(db: Kysely<KilnDatabase>, shown: string): Promise<void> {
  const { rows } = await sql<{ collate: string; provider: string }>`
    select datcollate as collate, datlocprovider::text as provider from pg_database where datname = current_database()`.execute(
    db,
  );
  const row = rows[0];
  if (!row || (row.provider === 'c' && /^(C|POSIX|C\.[\w-]+)$/i.test(row.collate))) return;
  const order = row.provider === 'c' ? row.collate : `the ICU locale of the database (provider ${row.provider})`;
  throw new KilnError('KILN_STORE', `the PostgreSQL store at ${shown} orders text by ${order}, not by byte (C)`, {
    hint: "create Kiln's database with the C collation: CREATE DATABASE kiln TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'",
  });
}

/** An error's message with the URL's password (should a driver ever echo it) masked. */
function safeMessage(cause: unknown, url: string): string {
  const text = cause instanceof Error ? cause.message : String(cause);
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {}
  return password === '' ? text : text.split(password).join('***');
}
