// Webhook deliveries in the store: the first of a (source, delivery id) claims it with one INSERT, so however many
// copies arrive at once, exactly one queues builds; the jobs it queued are written back for the redeliveries to show.
import type { Store } from './store.js';

/** A job a delivery queued. */
export interface DeliveredBuild {
  readonly project: string;
  readonly id: string;
}

/**
 * Records the delivery `(source, id)` as received at `at` unless it already is (INSERT … ON CONFLICT DO NOTHING):
 * true when this call recorded it (the caller acts on it), false when an earlier one did.
 */
export async function claimWebhookDelivery(store: Store, source: string, id: string, at: string): Promise<boolean> {
  const r = await store.db
    .insertInto('webhook_deliveries')
    .values({ source, delivery_id: id, received_at: at, builds: '[]' })
    .onConflict((oc) => oc.columns(['source', 'delivery_id']).doNothing())
    .executeTakeFirst();
  return (r.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

/** Writes the jobs the delivery `(source, id)` queued. */
export async function recordWebhookBuilds(
  store: Store,
  source: string,
  id: string,
  builds: readonly DeliveredBuild[],
): Promise<void> {
  await store.db
    .updateTable('webhook_deliveries')
    .set({ builds: JSON.stringify(builds.map((b) => ({ project: b.project, id: b.id }))) })
    .where('source', '=', source)
    .where('delivery_id', '=', id)
    .execute();
}

/** Forgets the delivery `(source, id)`: its builds could not be queued, so a redelivery may try again. */
export async function releaseWebhookDelivery(store: Store, source: string, id: string): Promise<void> {
  await store.db.deleteFrom('webhook_deliveries').where('source', '=', source).where('delivery_id', '=', id).execute();
}

/** The recorded delivery `(source, id)`, with the jobs it queued; undefined when it was never received. */
export async function webhookDelivery(
  store: Store,
  source: string,
  id: string,
): Promise<{ receivedAt: string; builds: DeliveredBuild[] } | undefined> {
  const row = await store.db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('source', '=', source)
    .where('delivery_id', '=', id)
    .executeTakeFirst();
  return row && { receivedAt: row.received_at, builds: JSON.parse(row.builds) as DeliveredBuild[] };
}
