// GitHub push deliveries: real HMAC-SHA256 signatures over real-shaped payloads; every way a signature can be wrong
// is a 401 before the body is parsed, a body over the limit is a 413 before anything else, a ping or a deleted branch
// triggers nothing.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { receiveGithubWebhook } from '../../../../src/server/webhooks/github.js';
import type { WebhookRequest } from '../../../../src/server/webhooks/request.js';
import { failure, payload } from './fixtures.js';

const SECRET = 'It’s a Secret to Everybody: 7f3c9a1e5b';
const DELIVERY = '72d3162e-cc78-11e3-81ab-4c9367dc0958';

function sign(body: Buffer, secret = SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** A delivery of `body` as GitHub sends it, signed with SECRET unless `headers` says otherwise. */
function delivery(body: Buffer, headers: Record<string, string | undefined> = {}, maxBodyBytes = 1 << 20) {
  const request: WebhookRequest = {
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/5f4e3d2',
      'x-github-event': 'push',
      'x-github-delivery': DELIVERY,
      'x-github-hook-id': '512347766',
      'x-hub-signature-256': sign(body),
      ...headers,
    },
    rawBody: body,
    secret: SECRET,
    maxBodyBytes,
  };
  return request;
}

describe('receiveGithubWebhook', () => {
  it('turns a signed push to a branch into a trigger of its clone URL, ref and commit', () => {
    expect(receiveGithubWebhook(delivery(payload('github-push.json')))).toEqual({
      kind: 'trigger',
      source: 'github',
      delivery: DELIVERY,
      repository: 'https://github.com/acme/kiln-demo.git',
      ref: 'refs/heads/main',
      commit: '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
      event: 'push',
    });
  });

  it('triggers a pushed annotated tag at the commit it points to, not the tag object in "after"', () => {
    const result = receiveGithubWebhook(delivery(payload('github-tag-push.json')));
    expect(result).toMatchObject({ kind: 'trigger', ref: 'refs/tags/v1.4.0' });
    expect(result.kind === 'trigger' && result.commit).toBe('0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c');
  });

  it('acknowledges a ping, a deleted branch and other events without a trigger', () => {
    const ping = payload('github-ping.json');
    expect(receiveGithubWebhook(delivery(ping, { 'x-github-event': 'ping' }))).toEqual({
      kind: 'ignored',
      source: 'github',
      delivery: DELIVERY,
      reason: 'ping',
    });
    expect(receiveGithubWebhook(delivery(payload('github-branch-delete.json')))).toMatchObject({
      kind: 'ignored',
      reason: 'refs/heads/feature/old was deleted',
    });
    const issue = Buffer.from('{"action":"opened"}');
    expect(receiveGithubWebhook(delivery(issue, { 'x-github-event': 'issues' }))).toMatchObject({
      kind: 'ignored',
      reason: 'event issues (only push is built)',
    });
  });

  it('takes header names in any case', () => {
    const body = payload('github-push.json');
    const result = receiveGithubWebhook({
      ...delivery(body),
      headers: { 'X-GitHub-Event': 'push', 'X-GitHub-Delivery': DELIVERY, 'X-Hub-Signature-256': sign(body) },
    });
    expect(result.kind).toBe('trigger');
  });

  describe('refuses with 401, naming neither secret nor signature', () => {
    const body = payload('github-push.json');
    const good = sign(body);
    const secrets = [SECRET, good.slice(7)];
    const refused = (request: WebhookRequest) =>
      failure(() => receiveGithubWebhook(request), 'KILN_UNAUTHENTICATED', 401, secrets);

    it('a signature made with another secret', () => {
      refused(delivery(body, { 'x-hub-signature-256': sign(body, 'another secret') }));
    });

    it('no signature header, and says so', () => {
      expect(refused(delivery(body, { 'x-hub-signature-256': undefined })).message).toContain(
        'the X-Hub-Signature-256 header is missing',
      );
    });

    it('only the SHA-1 X-Hub-Signature header', () => {
      const sha1 = `sha1=${createHmac('sha1', SECRET).update(body).digest('hex')}`;
      const err = refused(delivery(body, { 'x-hub-signature-256': undefined, 'x-hub-signature': sha1 }));
      expect(err.message).toContain('only an X-Hub-Signature (SHA-1) header was sent');
    });

    it('the signature of a different body', () => {
      refused(delivery(body, { 'x-hub-signature-256': sign(payload('github-tag-push.json')) }));
    });

    it('a body changed after signing (one byte)', () => {
      const tampered = Buffer.from(body);
      tampered[tampered.indexOf('main')] = 'x'.charCodeAt(0);
      refused({ ...delivery(body), rawBody: tampered });
    });

    it('a truncated signature, and one without its sha256= prefix', () => {
      refused(delivery(body, { 'x-hub-signature-256': good.slice(0, -2) }));
      refused(delivery(body, { 'x-hub-signature-256': good.slice('sha256='.length) }));
      refused(delivery(body, { 'x-hub-signature-256': 'sha256=' }));
    });

    it('a signature of the same length differing only in its last hex digit (the whole value is compared)', () => {
      const last = good.at(-1) === '0' ? '1' : '0';
      const almost = `${good.slice(0, -1)}${last}`;
      expect(almost).toHaveLength(good.length);
      refused(delivery(body, { 'x-hub-signature-256': almost }));
    });

    it('the right digest in upper-case hex: GitHub sends lower case, and only that is accepted', () => {
      const upper = `sha256=${good.slice(7).toUpperCase()}`;
      expect(upper).not.toBe(good);
      refused(delivery(body, { 'x-hub-signature-256': upper }));
    });

    it('a signature header repeated (joined by a comma)', () => {
      refused(delivery(body, { 'x-hub-signature-256': `${good}, ${good}` }));
    });
  });

  it('answers 413 for a body over the limit before looking at the signature (none is sent here)', () => {
    const body = payload('github-push.json');
    const err = failure(
      () => receiveGithubWebhook(delivery(body, { 'x-hub-signature-256': undefined }, body.length - 1)),
      'KILN_PAYLOAD_TOO_LARGE',
      413,
      [SECRET],
    );
    expect(err.message).toBe(`GitHub webhook body is ${body.length} bytes; the limit is ${body.length - 1} bytes`);
    expect(receiveGithubWebhook(delivery(body, {}, body.length)).kind).toBe('trigger');
  });

  it('checks the signature before parsing: a bad signature on malformed JSON is a 401, a good one a 400', () => {
    const junk = Buffer.from('{"ref": "refs/heads/main", ');
    failure(
      () => receiveGithubWebhook(delivery(junk, { 'x-hub-signature-256': sign(Buffer.from('{}')) })),
      'KILN_UNAUTHENTICATED',
      401,
      [SECRET],
    );
    const err = failure(() => receiveGithubWebhook(delivery(junk)), 'KILN_BAD_REQUEST', 400, [SECRET]);
    expect(err.message).toBe('GitHub webhook: the body is not JSON (27 bytes)');
  });

  it('answers 400 for a signed push missing what a trigger needs, or without a delivery id', () => {
    const bad = (value: unknown, headers: Record<string, string | undefined> = {}) => {
      const body = Buffer.from(JSON.stringify(value));
      return failure(() => receiveGithubWebhook(delivery(body, headers)), 'KILN_BAD_REQUEST', 400, [SECRET]).message;
    };
    const push = JSON.parse(payload('github-push.json').toString('utf8'));
    expect(bad({ ...push, repository: { ...push.repository, clone_url: undefined } })).toContain(
      'repository.clone_url',
    );
    expect(bad({ ...push, after: 'abc' })).toContain('"after" is not a 40-hex commit id');
    expect(bad({ ...push, ref: 'refs/heads/../main' })).toContain('"ref" is missing or not a git ref');
    expect(bad([push])).toContain('not an object');
    expect(bad(push, { 'x-github-delivery': undefined })).toContain('the X-GitHub-Delivery header is missing');
  });

  it('refuses to verify with an empty configured secret', () => {
    const body = payload('github-push.json');
    const request = {
      ...delivery(body, { 'x-hub-signature-256': `sha256=${createHmac('sha256', '').update(body).digest('hex')}` }),
      secret: '',
    };
    failure(() => receiveGithubWebhook(request), 'KILN_CONFIG_INVALID', 422, []);
  });
});
