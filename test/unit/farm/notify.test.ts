import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Job } from '../../../src/farm/job.js';
import { backoffDelay, buildCloudEvent, notifyEventOf, standardWebhookHeaders } from '../../../src/farm/notify.js';
import { verifyStandardSignature } from '../../../src/server/webhooks/standard.js';

const JOB = {
  id: 'job-1',
  project: 'web',
  commit: 'a'.repeat(40),
  branch: 'main',
  state: 'succeeded',
  attempt: 1,
  buildId: 'build-1',
} as unknown as Job;

describe('notification events', () => {
  it('is a CloudEvents 1.0 structured event with the job, its build and its artifact digests', () => {
    const event = buildCloudEvent({
      id: 'ev-1',
      host: 'kiln.example',
      job: JOB,
      event: 'succeeded',
      time: new Date('2026-12-07T12:00:00Z'),
      artifacts: [{ name: 'app', digest: `sha256:${'b'.repeat(64)}` }],
    });
    expect(event).toEqual({
      specversion: '1.0',
      id: 'ev-1',
      source: 'kiln://kiln.example/projects/web',
      type: 'dev.kiln.build.succeeded',
      subject: 'job-1',
      time: '2026-12-07T12:00:00.000Z',
      datacontenttype: 'application/json',
      data: {
        jobId: 'job-1',
        project: 'web',
        commit: 'a'.repeat(40),
        branch: 'main',
        status: 'succeeded',
        attempt: 1,
        buildId: 'build-1',
        artifacts: [{ name: 'app', digest: `sha256:${'b'.repeat(64)}` }],
      },
    });
    expect(JSON.parse(JSON.stringify(event))).toEqual(event);
  });

  it('names each job state by the notify event it is (running is started, lost counts as failed)', () => {
    const of = (state: Job['state']) => notifyEventOf({ state });
    expect(
      ['queued', 'running', 'succeeded', 'failed', 'blocked', 'cancelled', 'lost'].map((s) => of(s as Job['state'])),
    ).toEqual(['queued', 'started', 'succeeded', 'failed', 'blocked', 'cancelled', 'failed']);
  });

  it('backs off exponentially up to a ceiling', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, 1_000, 10_000))).toEqual([
      1_000, 2_000, 4_000, 8_000, 10_000, 10_000,
    ]);
  });
});

describe('notification signatures', () => {
  const body = JSON.stringify({ specversion: '1.0', id: 'ev-1' });
  const now = new Date('2026-12-07T12:00:00Z');
  const ts = Math.floor(now.getTime() / 1000);

  it('signs so that the Standard Webhooks receiver of Kiln accepts it, and rejects a changed body', () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const headers = standardWebhookHeaders(secret, 'msg-1', ts, body);
    expect(headers['webhook-id']).toBe('msg-1');
    expect(headers['webhook-timestamp']).toBe(String(ts));
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const request = (raw: string) => ({ headers, rawBody: Buffer.from(raw, 'utf8'), secret, now, maxBodyBytes: 1e6 });
    expect(() => verifyStandardSignature(request(body))).not.toThrow();
    expect(() => verifyStandardSignature(request(`${body} `))).toThrow(/webhook-signature/);
    const other = `whsec_${Buffer.alloc(32, 8).toString('base64')}`;
    expect(() => verifyStandardSignature({ ...request(body), secret: other })).toThrow(/webhook-signature/);
  });

  it('signs with the UTF-8 bytes of a secret that is not whsec_', () => {
    const headers = standardWebhookHeaders('plain secret', 'msg-2', ts, body);
    const expected = createHmac('sha256', Buffer.from('plain secret', 'utf8'))
      .update(`msg-2.${ts}.${body}`)
      .digest('base64');
    expect(headers['webhook-signature']).toBe(`v1,${expected}`);
  });
});
