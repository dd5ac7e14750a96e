// Webhook deliveries in a real SQLite store: the first claim of a (source, delivery id) wins, whichever store
// handle makes it; the jobs it queued are kept for redeliveries; a released delivery can be claimed again.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  claimWebhookDelivery,
  openSqliteStore,
  recordWebhookBuilds,
  releaseWebhookDelivery,
  webhookDelivery,
} from '../../../src/store/index.js';
import { tempDir } from '../../helpers/tmp.js';

describe('webhook deliveries in the store', () => {
  it('claims a delivery once across two handles, keeps its jobs, and forgets a released one', async () => {
    const file = join(tempDir(), 'kiln.db');
    const a = await openSqliteStore(file);
    const b = await openSqliteStore(file);
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
