// Vulnerability data in the store: OSV records upserted in batches (newest `modified` wins), looked up by package.
import { sql } from 'kysely';
import type { Store } from './store.js';

/** One record ready to store: its canonical JSON and the packages it is found by. */
export interface OsvRow {
  readonly id: string;
  readonly modified: string;
  readonly withdrawn: string | null;
  readonly body: string;
  readonly origin: string;
  readonly packages: readonly { readonly ecosystem: string; readonly name: string }[];
}

/** What one batch did to the stored records. */
export interface OsvUpsertCounts {
  added: number;
  updated: number;
  unchanged: number;
}

/**
 * Starts an import: its row (counts filled in by finishOsvImport) and the sequence number its records carry. The
 * number is one more than the last, chosen under the lock on the osv_state row (taken by a write first, as the
 * batches do), so concurrent imports get distinct numbers on both dialects: SQLite would number the rowid alone, but
 * PostgreSQL has no such default for an `integer` key.
 */
export async function beginOsvImport(store: Store, source: string, importedAt: string): Promise<number> {
  return store.db.transaction().execute(async (tx) => {
    await tx.updateTable('osv_state').set({ revision: sql`revision` }).where('id', '=', 1).execute();
    const last = await tx
      .selectFrom('osv_imports')
      .select((eb) => eb.fn.max('seq').as('max'))
      .executeTakeFirst();
    const seq = Number(last?.max ?? 0) + 1;
    await tx
      .insertInto('osv_imports')
      .values({ seq, source, imported_at: importedAt, added: 0, updated: 0, unchanged: 0, rejected: 0 })
      .execute();
    return seq;
  });
}

/**
 * Stores one batch in one transaction, so every record is whole or absent. A record already stored is replaced
 * when the new one is newer (`modified`), or as new with different content; an older copy is ignored.
 */
export async function upsertOsvRecords(store: Store, seq: number, rows: readonly OsvRow[]): Promise<OsvUpsertCounts> {
  const counts: OsvUpsertCounts = { added: 0, updated: 0, unchanged: 0 };
  if (rows.length === 0) return counts;
  // The last copy of an id in a batch is the one that counts, as it would be across batches.
  const byId = new Map(rows.map((r) => [r.id, r]));
  counts.unchanged += rows.length - byId.size; // earlier copies in the same batch: superseded, so counted here
  await store.db.transaction().execute(async (tx) => {
    // A write first: the transaction holds the write lock before it reads, so a writer that commits in between
    // cannot invalidate what it read (SQLITE_BUSY_SNAPSHOT); other writers wait (busy_timeout) instead.
    await tx.updateTable('osv_state').set({ revision: sql`revision` }).where('id', '=', 1).execute();
    const stored = new Map<string, { modified: string; body: string }>();
    for (const part of chunks([...byId.keys()], 500)) {
      const found = await tx
        .selectFrom('osv_records')
        .select(['id', 'modified', 'body'])
        .where('id', 'in', part)
        .execute();
      for (const f of found) stored.set(f.id, f);
    }
    const changed: OsvRow[] = [];
    for (const row of byId.values()) {
      const old = stored.get(row.id);
      if (!old) counts.added++;
      else if (row.modified < old.modified || (row.modified === old.modified && row.body === old.body)) {
        counts.unchanged++;
        continue;
      } else counts.updated++;
      changed.push(row);
    }
    for (const part of chunks(changed, 200)) {
      await tx
        .deleteFrom('osv_packages')
        .where(
          'record_id',
          'in',
          part.map((r) => r.id),
        )
        .execute();
      await tx
        .insertInto('osv_records')
        .values(
          part.map((r) => ({
            id: r.id,
            modified: r.modified,
            withdrawn: r.withdrawn,
            body: r.body,
            origin: r.origin,
            import_seq: seq,
          })),
        )
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            modified: eb.ref('excluded.modified'),
            withdrawn: eb.ref('excluded.withdrawn'),
            body: eb.ref('excluded.body'),
            origin: eb.ref('excluded.origin'),
            import_seq: eb.ref('excluded.import_seq'),
          })),
        )
        .execute();
      const packages = part.flatMap((r) => dedupe(r.packages).map((p) => ({ record_id: r.id, ...p })));
      for (const rowsPart of chunks(packages, 300)) await tx.insertInto('osv_packages').values(rowsPart).execute();
    }
    if (changed.length > 0) {
      await tx
        .updateTable('osv_state')
        .set({ revision: sql`revision + 1`, records: sql`records + ${counts.added}` })
        .where('id', '=', 1)
        .execute();
    }
  });
  return counts;
}

/** Fills in an import's counts once its last batch is stored. */
export async function finishOsvImport(
  store: Store,
  seq: number,
  counts: OsvUpsertCounts & { rejected: number },
): Promise<void> {
  await store.db.updateTable('osv_imports').set(counts).where('seq', '=', seq).execute();
}

/** Bodies of the records that affect any of `packages` (withdrawn ones included: the caller says why it skips them). */
export async function osvRecordsFor(
  store: Store,
  packages: readonly { readonly ecosystem: string; readonly name: string }[],
): Promise<{ id: string; ecosystem: string; name: string; body: string }[]> {
  const out: { id: string; ecosystem: string; name: string; body: string }[] = [];
  const byEcosystem = new Map<string, Set<string>>();
  for (const p of packages) byEcosystem.set(p.ecosystem, (byEcosystem.get(p.ecosystem) ?? new Set()).add(p.name));
  // Ecosystem and name together use the (ecosystem, name) index: a lookup, not a scan of every record.
  for (const [ecosystem, names] of byEcosystem) {
    for (const part of chunks([...names], 500)) {
      const rows = await store.db
        .selectFrom('osv_packages')
        .innerJoin('osv_records', 'osv_records.id', 'osv_packages.record_id')
        .select(['osv_records.id', 'osv_packages.ecosystem', 'osv_packages.name', 'osv_records.body'])
        .where('osv_packages.ecosystem', '=', ecosystem)
        .where('osv_packages.name', 'in', part)
        .orderBy('osv_records.id')
        .execute();
      out.push(...rows);
    }
  }
  return out;
}

/** The vulnerability data as a whole: how many records, and the revision that changes whenever any of them does. */
export async function osvDataState(store: Store): Promise<{ records: number; revision: number }> {
  const row = await store.db
    .selectFrom('osv_state')
    .select(['records', 'revision'])
    .where('id', '=', 1)
    .executeTakeFirstOrThrow();
  return { records: Number(row.records), revision: Number(row.revision) };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function dedupe<T extends { ecosystem: string; name: string }>(packages: readonly T[]): T[] {
  const seen = new Map(packages.map((p) => [`${p.ecosystem}\0${p.name}`, p]));
  return [...seen.values()];
}

/** When the last import that changed records ran (ISO 8601), or undefined when none did. */
export async function lastOsvImport(store: Store): Promise<string | undefined> {
  const row = await store.db
    .selectFrom('osv_imports')
    .select('imported_at')
    .where((eb) => eb.or([eb('added', '>', 0), eb('updated', '>', 0)]))
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.imported_at;
}
