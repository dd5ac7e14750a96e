// What a server keeps besides the builds, pruned by age (kiln-server.yaml `historyDays`): ended jobs with their log
// lines, notifications delivered or given up, webhook deliveries, and workers not heard from since.
import { inJobsTransaction } from './jobs.js';
import { countJobsBeforeDelete } from './metrics.js';
import type { Store } from './store.js';

/** How many rows of each kind a prune deleted. */
export interface PrunedHistory {
  readonly jobs: number;
  readonly logLines: number;
  readonly notifications: number;
  readonly webhookDeliveries: number;
  readonly workers: number;
}

/**
 * Deletes, in one transaction, what ended before `before` (RFC 3339): jobs that ended then and their log lines,
 * notifications no longer pending that were written then, webhook deliveries received then, and workers whose last
 * report was then. Queued and running jobs and pending notifications are never deleted, however old.
 */
export async function pruneHistory(store: Store, before: string): Promise<PrunedHistory> {
  return inJobsTransaction(store, async (tx) => {
    const ended = tx
      .selectFrom('jobs')
      .select('id')
      .where('ended_at', '<', before)
      .where('state', 'not in', ['queued', 'running']);
    const endedIds = (await ended.execute()).map((r) => r.id);
    for (let i = 0; i < endedIds.length; i += 500) {
      await countJobsBeforeDelete(tx, store.dialect, endedIds.slice(i, i + 500)); // the metrics keep them
    }
    const logLines = await tx.deleteFrom('build_logs').where('job_id', 'in', ended).executeTakeFirst();
    const jobs = await tx
      .deleteFrom('jobs')
      .where('ended_at', '<', before)
      .where('state', 'not in', ['queued', 'running'])
      .executeTakeFirst();
    const notifications = await tx
      .deleteFrom('notifications')
      .where('status', '!=', 'pending')
      .where('created_at', '<', before)
      .executeTakeFirst();
    const webhookDeliveries = await tx
      .deleteFrom('webhook_deliveries')
      .where('received_at', '<', before)
      .executeTakeFirst();
    const workers = await tx.deleteFrom('workers').where('heartbeat_at', '<', before).executeTakeFirst();
    return {
      jobs: Number(jobs.numDeletedRows),
      logLines: Number(logLines.numDeletedRows),
      notifications: Number(notifications.numDeletedRows),
      webhookDeliveries: Number(webhookDeliveries.numDeletedRows),
      workers: Number(workers.numDeletedRows),
    };
  });
}
