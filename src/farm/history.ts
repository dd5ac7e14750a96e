// The server's own history (ended jobs and their logs, finished notifications, webhook deliveries, silent workers)
// kept for kiln-server.yaml's `historyDays`, then deleted: builds themselves stay until `kiln gc`.
import type { ServerConfig } from '../config/index.js';
import { type PrunedHistory, pruneHistory, type Store } from '../store/index.js';

const SAID: Readonly<Record<keyof PrunedHistory, string>> = {
  jobs: 'ended jobs',
  logLines: 'log lines',
  notifications: 'notifications',
  webhookDeliveries: 'webhook deliveries',
  workers: 'workers',
};

/** Deletes what ended more than `historyDays` before `now`, and says what when it deleted anything; never throws. */
export async function pruneOldHistory(
  store: Store,
  config: Pick<ServerConfig, 'historyMs'>,
  log: (message: string) => void,
  now: Date = new Date(),
): Promise<void> {
  try {
    const pruned = await pruneHistory(store, new Date(now.getTime() - config.historyMs).toISOString());
    const said = (Object.keys(SAID) as (keyof PrunedHistory)[]).filter((k) => pruned[k] > 0);
    if (said.length > 0) {
      const days = config.historyMs / 86_400_000;
      log(`history older than ${days} days pruned: ${said.map((k) => `${pruned[k]} ${SAID[k]}`).join(', ')}`);
    }
  } catch (err) {
    log(`cannot prune the history older than historyDays: ${String(err)}`);
  }
}
