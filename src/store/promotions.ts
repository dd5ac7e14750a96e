// Promotions and publications in the store: every copy of an artifact to a registry, written once, never changed.
import type { Insertable } from 'kysely';
import type { PromotionsTable, PublicationsTable } from './schema.js';
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
