// Promotions and publications in the store: every copy of an artifact to a registry, written once, never changed.
import type { Insertable, Selectable } from 'kysely';
import { inJobsTransaction, type JobsTx } from './jobs.js';
import type { JobRow, PromotionsTable, PublicationsTable } from './schema.js';
import type { Store } from './store.js';

/** Records one promotion. */
export async function recordPromotion(store: Store, row: Insertable<PromotionsTable>): Promise<void> {
  await store.db.insertInto('promotions').values(row).execute();
}

/** The promotions of one artifact manifest, newest first (to check `after:` and to show its history). */
export async function promotionsOf(store: Store, manifestDigest: string) {
  return store.db
    .selectFrom('promotions')
    .selectAll()
    .where('manifest_digest', '=', manifestDigest)
    .orderBy('promoted_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

/** Records that an artifact is in a registry repository; a repeated push keeps the first row. */
export async function recordPublication(store: Store, row: Insertable<PublicationsTable>): Promise<void> {
  await store.db
    .insertInto('publications')
    .values(row)
    .onConflict((oc) => oc.columns(['manifest_digest', 'registry', 'repository']).doNothing())
    .execute();
}

/** The oldest promotions no server has announced yet (at most `limit`). */
export async function unannouncedPromotions(store: Store, limit: number): Promise<Selectable<PromotionsTable>[]> {
  return store.db
    .selectFrom('promotions')
    .selectAll()
    .where('announced_at', 'is', null)
    .orderBy('promoted_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/**
 * Marks promotion `id` announced at `at` and runs `write` (its notifications) in the same transaction, when no other
 * server did first; false when one did (then nothing is written).
 */
export async function announcePromotion(
  store: Store,
  id: string,
  at: string,
  write: (tx: JobsTx) => Promise<void>,
): Promise<boolean> {
  return inJobsTransaction(store, async (tx) => {
    const claimed = await tx
      .updateTable('promotions')
      .set({ announced_at: at })
      .where('id', '=', id)
      .where('announced_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return false;
    await write(tx);
    return true;
  });
}

/** The latest job whose build made an artifact with `manifestDigest`, if a job (a server's build) made one. */
export async function jobOfManifest(db: JobsTx, manifestDigest: string): Promise<JobRow | undefined> {
  return db
    .selectFrom('jobs')
    .innerJoin('artifacts', 'artifacts.build_id', 'jobs.build_id')
    .selectAll('jobs')
    .where('artifacts.manifest_digest', '=', manifestDigest)
    .orderBy('jobs.seq', 'desc')
    .limit(1)
    .executeTakeFirst();
}
