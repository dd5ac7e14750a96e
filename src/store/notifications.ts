// The notification outbox: rows are added in the queue's own transactions (so a state change and its events commit
// together), and a sender loop takes the due ones, records each attempt, and lists them for `GET /v1/deliveries`.
import type { Insertable } from 'kysely';
import type { JobsTx } from './jobs.js';
import type { NotificationRow, NotificationsTable } from './schema.js';
import type { Store } from './store.js';

/** Adds notifications (inside a queue transaction, `db` being its connection). */
export async function insertNotificationRows(
  db: JobsTx,
  rows: readonly Insertable<NotificationsTable>[],
): Promise<void> {
  if (rows.length > 0)
    await db
      .insertInto('notifications')
      .values([...rows])
      .execute();
}

/** Where a build's artifacts are: each one's manifest, and every registry repository a publication copied it to. */
export async function publishedArtifactsOf(
  db: JobsTx,
  buildId: string,
): Promise<
  { name: string; digest: string; manifestDigest: string; registries: { registry: string; repository: string }[] }[]
> {
  const artifacts = await db
    .selectFrom('artifacts')
    .select(['name', 'digest', 'manifest_digest'])
    .where('build_id', '=', buildId)
    .orderBy('name')
    .execute();
  const manifests = [...new Set(artifacts.map((a) => a.manifest_digest))];
  const copies =
    manifests.length === 0
      ? []
      : await db
          .selectFrom('publications')
          .select(['manifest_digest', 'registry', 'repository'])
          .where('manifest_digest', 'in', manifests)
          .orderBy('registry')
          .orderBy('repository')
          .execute();
  return artifacts.map((a) => ({
    name: a.name,
    digest: a.digest,
    manifestDigest: a.manifest_digest,
    registries: copies
      .filter((c) => c.manifest_digest === a.manifest_digest)
      .map((c) => ({ registry: c.registry, repository: c.repository })),
  }));
}

/** The commit-status notifications of one job to one statuses URL (a handful), to tell which is the newest. */
export async function statusNotificationsOf(
  store: Store,
  jobId: string,
  url: string,
): Promise<Pick<NotificationRow, 'id' | 'type' | 'created_at'>[]> {
  return store.db
    .selectFrom('notifications')
    .select(['id', 'type', 'created_at'])
    .where('job_id', '=', jobId)
    .where('kind', '=', 'github-status')
    .where('url', '=', url)
    .execute();
}

/** Pending notifications whose next attempt is due at `at`, oldest first, at most `limit`. */
export async function dueNotifications(store: Store, at: string, limit: number): Promise<NotificationRow[]> {
  return store.db
    .selectFrom('notifications')
    .selectAll()
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', at)
    .orderBy('next_attempt_at')
    .orderBy('created_at')
    .limit(limit)
    .execute();
}

/**
 * Claims the attempt of a due notification for one sender: moves its next attempt to `until` (when an attempt that
 * never records its outcome, its sender gone, may be made again) on condition it is still pending and still due at
 * the `seen` time the caller read. True for exactly one of the senders (replicas on one store) that read the same
 * row, so each attempt is made once; the others leave it.
 */
export async function claimNotification(store: Store, id: string, seen: string, until: string): Promise<boolean> {
  const r = await store.db
    .updateTable('notifications')
    .set({ next_attempt_at: until })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('next_attempt_at', '=', seen)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/** Records how an attempt went. */
export async function updateNotification(
  store: Store,
  id: string,
  change: Pick<NotificationsTable, 'status' | 'attempts' | 'next_attempt_at' | 'last_error' | 'last_status'> & {
    last_attempt_at: string;
    delivered_at: string | null;
  },
): Promise<void> {
  await store.db.updateTable('notifications').set(change).where('id', '=', id).execute();
}

/** Which notifications `listNotifications` returns; newest first. */
export interface NotificationFilter {
  readonly project?: string | undefined;
  readonly status?: NotificationsTable['status'] | undefined;
  readonly limit?: number | undefined;
}

/** Recent notifications, newest first (at most `limit`, default 100). */
export async function listNotifications(store: Store, filter: NotificationFilter = {}): Promise<NotificationRow[]> {
  let q = store.db.selectFrom('notifications').selectAll();
  if (filter.project !== undefined) q = q.where('project', '=', filter.project);
  if (filter.status !== undefined) q = q.where('status', '=', filter.status);
  return q
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(filter.limit ?? 100)
    .execute();
}
