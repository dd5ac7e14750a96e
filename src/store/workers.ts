// The farm's workers as they report themselves, and the configuration the server publishes for them.
import type { Insertable } from 'kysely';
import type { WorkerRow, WorkersTable } from './schema.js';
import type { Store } from './store.js';

/** How often a worker reports itself (and its health) when nothing changes; silent for three reports, it is gone. */
export const WORKER_REPORT_MS = 10_000;

/** Records a worker's report: its first one adds it, each later one replaces what it said before. */
export async function reportWorker(store: Store, row: Insertable<WorkersTable>): Promise<void> {
  const { id: _, host: __, started_at: ___, ...changing } = row;
  await store.db
    .insertInto('workers')
    .values(row)
    .onConflict((oc) => oc.column('id').doUpdateSet(changing))
    .execute();
}

/** The workers that reported at or after `since` (RFC 3339), most recently started first. */
export async function workerRows(store: Store, since: string): Promise<WorkerRow[]> {
  return store.db
    .selectFrom('workers')
    .selectAll()
    .where('heartbeat_at', '>=', since)
    .orderBy('started_at', 'desc')
    .orderBy('id')
    .execute();
}

/** A farm's configuration as published: the kiln-server.yaml text, the file it was read from, and when. */
export interface PublishedConfig {
  readonly text: string;
  readonly file: string;
  readonly updatedAt: string;
}

/** Publishes the server's configuration, replacing the one before. */
export async function publishFarmConfig(store: Store, config: PublishedConfig): Promise<void> {
  const row = { text: config.text, file: config.file, updated_at: config.updatedAt };
  await store.db
    .insertInto('farm_config')
    .values({ id: 1, ...row })
    .onConflict((oc) => oc.column('id').doUpdateSet(row))
    .execute();
}

/** The published configuration, if a server has published one. */
export async function farmConfig(store: Store): Promise<PublishedConfig | undefined> {
  const row = await store.db.selectFrom('farm_config').select(['text', 'file', 'updated_at']).executeTakeFirst();
  return row && { text: row.text, file: row.file, updatedAt: row.updated_at };
}
