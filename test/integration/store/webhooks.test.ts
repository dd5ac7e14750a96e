// Webhook deliveries in a real store (SQLite and PostgreSQL): the first claim of a (source, delivery id) wins,
// whichever store handle makes it; the jobs it queued are kept for redeliveries; a released delivery can be claimed
// again.
import { beforeEach, describe, expect, it } from 'vitest';
import {
  claimWebhookDelivery,
  recordWebhookBuilds,
  releaseWebhookDelivery,
  webhookDelivery,
} from '../../../src/store/index.js';
import { type StoreDialectFactory, storeDialects } from '../../helpers/postgres.js';

const DIALECTS = storeDialects();
/** The dialect of the running test (set by each describe.each block). */
let current: StoreDialectFactory;

describe.each(DIALECTS)('webhook deliveries in the store on $name', (dialect: StoreDialectFactory) => {
  beforeEach(() => {
    current = dialect;
  });
  it('claims a delivery once across two handles, keeps its jobs, and forgets a released one', async () => {
    const file = await current.location();
    const a = await current.open(file);
    const b = await current.open(file);
    try {
      const at = '2026-12-07T20:00:00.000Z';
      const claims = await Promise.all([
        claimWebhookDelivery(a, 'github', 'd-1', at),
        claimWebhookDelivery(b, 'github', 'd-1', at),
        claimWebhookDelivery(a, 'github', 'd-1', at),
      ]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      // The key is the source and the id: the same id from another sender is another delivery.
      expect(await claimWebhookDelivery(b, 'gitlab', 'd-1', at)).toBe(true);
      expect(await webhookDelivery(b, 'github', 'd-1')).toEqual({ receivedAt: at, builds: [] });
      await recordWebhookBuilds(a, 'github', 'd-1', [{ project: 'demo', id: 'job-1' }]);
      expect(await webhookDelivery(b, 'github', 'd-1')).toEqual({
        receivedAt: at,
        builds: [{ project: 'demo', id: 'job-1' }],
      });
      expect(await webhookDelivery(a, 'github', 'd-2')).toBeUndefined();
      await releaseWebhookDelivery(a, 'gitlab', 'd-1');
      expect(await claimWebhookDelivery(a, 'gitlab', 'd-1', at)).toBe(true);
      expect(await claimWebhookDelivery(a, 'github', 'd-1', at)).toBe(false);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
