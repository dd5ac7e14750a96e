// Promotions in the store: every copy of an artifact to an environment, written once, never changed.
import type { Insertable } from 'kysely';
import type { PromotionsTable } from './schema.js';
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
