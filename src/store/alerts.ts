// Kiln's alert log: the alerts Alertmanager sent (POST /v1/alerts), one row per firing of an alert (its fingerprint
// and start), updated in place when the same firing is sent again or resolves.
import type { Insertable } from 'kysely';
import type { AlertRow, AlertsTable } from './schema.js';
import type { Store } from './store.js';

/** Records alerts in one transaction; a firing already logged takes the newer status, end and annotations. */
export async function recordAlerts(store: Store, rows: readonly Insertable<AlertsTable>[]): Promise<void> {
  if (rows.length === 0) return;
  await store.db.transaction().execute(async (tx) => {
    for (const row of rows) {
      await tx
        .insertInto('alerts')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['fingerprint', 'starts_at']).doUpdateSet({
            status: row.status,
            ends_at: row.ends_at ?? null,
            annotations: row.annotations,
            labels: row.labels,
            received_at: row.received_at,
          }),
        )
        .execute();
    }
  });
}

/** The alert log, most recently received first. */
export async function alertRows(
  store: Store,
  query: { readonly limit: number; readonly status?: 'firing' | 'resolved' | undefined },
): Promise<AlertRow[]> {
  let q = store.db.selectFrom('alerts').selectAll();
  if (query.status) q = q.where('status', '=', query.status);
  return q.orderBy('received_at', 'desc').orderBy('fingerprint').limit(query.limit).execute();
}
