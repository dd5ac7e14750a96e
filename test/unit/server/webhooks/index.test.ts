// One receiver per endpoint path, so the HTTP layer wires `/v1/webhooks/:source` with one lookup.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WEBHOOK_RECEIVERS } from '../../../../src/server/webhooks/index.js';
import { payload } from './fixtures.js';

describe('WEBHOOK_RECEIVERS', () => {
  it('has a receiver for each path, and the github one verifies and reads a GitHub push', () => {
    expect(Object.keys(WEBHOOK_RECEIVERS).sort()).toEqual(['github', 'gitlab', 'standard']);
    const body = payload('github-push.json');
    const result = WEBHOOK_RECEIVERS.github({
      headers: {
        'x-github-event': 'push',
        'x-github-delivery': 'd-1',
        'x-hub-signature-256': `sha256=${createHmac('sha256', 'k').update(body).digest('hex')}`,
      },
      rawBody: body,
      secret: 'k',
      maxBodyBytes: 1 << 20,
    });
    expect(result).toMatchObject({ kind: 'trigger', source: 'github', delivery: 'd-1' });
  });
});
