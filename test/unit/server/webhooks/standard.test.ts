// The generic signed webhook (Standard Webhooks, v1 HMAC-SHA256): the specification's own test vector verifies, the
// timestamp must be within five minutes either way, one matching entry of several suffices, and the body is read only
// after all of that.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  receiveStandardWebhook,
  type StandardWebhookRequest,
  standardWebhookKey,
  verifyStandardSignature,
} from '../../../../src/server/webhooks/standard.js';
import { failure } from './fixtures.js';

// The test vector published with the specification.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const KEY = Buffer.from('c2FtcGxlLWtpbG4td2ViaG9vay1rZXktMzItYnl0ZXM=', 'base64');
const SECRET = `whsec_${KEY.toString('base64')}`;
const NOW = new Date('2026-12-07T20:00:00Z');
const T = Math.floor(NOW.getTime() / 1000);
const BODY = Buffer.from(
  JSON.stringify({
    repository: 'https://git.example.com/acme/kiln-demo.git',
    ref: 'refs/heads/main',
    commit: 'A'.repeat(40),
  }),
);

function sign(id: string, timestamp: number | string, body: Buffer, key: Buffer = KEY): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

function delivery(body: Buffer, headers: Record<string, string | undefined> = {}, at = T): StandardWebhookRequest {
  return {
    headers: {
      'content-type': 'application/json',
      'webhook-id': 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
      'webhook-timestamp': String(at),
      'webhook-signature': sign('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', at, body),
      ...headers,
    },
    rawBody: body,
    secret: SECRET,
    maxBodyBytes: 64 * 1024,
    now: NOW,
  };
}

describe('verifyStandardSignature', () => {
  it('accepts the specification test vector, with or without the whsec_ prefix', () => {
    const request = (secret: string): StandardWebhookRequest => ({
      headers: {
        'webhook-id': VECTOR.id,
        'webhook-timestamp': String(VECTOR.timestamp),
        'webhook-signature': VECTOR.signature,
      },
      rawBody: Buffer.from(VECTOR.body),
      secret,
      maxBodyBytes: 1024,
      now: new Date(VECTOR.timestamp * 1000),
    });
    expect(() => verifyStandardSignature(request(VECTOR.secret))).not.toThrow();
    expect(() => verifyStandardSignature(request(VECTOR.secret.slice('whsec_'.length)))).not.toThrow();
    // The prefix is not key material: signing with its bytes does not verify.
    failure(
      () => verifyStandardSignature(request('whsec_whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')),
      'KILN_CONFIG_INVALID',
      422,
      [],
    );
  });
});

describe('receiveStandardWebhook', () => {
  it('turns a signed { repository, ref, commit } into a trigger, the commit in lower case', () => {
    expect(receiveStandardWebhook(delivery(BODY))).toEqual({
      kind: 'trigger',
      source: 'standard',
      delivery: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
      repository: 'https://git.example.com/acme/kiln-demo.git',
      ref: 'refs/heads/main',
      commit: 'a'.repeat(40),
      event: 'push',
    });
  });

  it('reads a bare ref as a branch, keeps a tag ref, and leaves the commit out when none is sent', () => {
    const body = Buffer.from('{"repository":"git@git.example.com:acme/kiln-demo.git","ref":"release/2.x"}');
    expect(receiveStandardWebhook(delivery(body))).toMatchObject({ ref: 'refs/heads/release/2.x', commit: undefined });
    const tag = Buffer.from('{"repository":"ssh://git@git.example.com/acme/kiln-demo.git","ref":"refs/tags/v2.0.0"}');
    expect(receiveStandardWebhook(delivery(tag))).toMatchObject({ ref: 'refs/tags/v2.0.0' });
  });

  it('accepts a timestamp up to five minutes off either way', () => {
    expect(receiveStandardWebhook(delivery(BODY, {}, T - 300)).kind).toBe('trigger');
    expect(receiveStandardWebhook(delivery(BODY, {}, T + 300)).kind).toBe('trigger');
  });

  it('accepts several signatures when any one matches (a rotated secret), whatever its place', () => {
    const good = sign('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', T, BODY);
    const old = sign('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', T, BODY, Buffer.alloc(32, 7));
    const asymmetric = 'v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==';
    for (const header of [`${old} ${good}`, `${good} ${old}`, `${asymmetric} ${old} ${good}`]) {
      expect(receiveStandardWebhook(delivery(BODY, { 'webhook-signature': header })).kind).toBe('trigger');
    }
  });

  describe('refuses with 401, naming neither secret nor signature', () => {
    const good = sign('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', T, BODY);
    const secrets = [SECRET, KEY.toString('base64'), good.slice(3)];
    const refused = (request: StandardWebhookRequest) =>
      failure(() => receiveStandardWebhook(request), 'KILN_UNAUTHENTICATED', 401, secrets).message;

    it('a timestamp more than five minutes old (a replay), or ahead', () => {
      const old = T - 301;
      expect(
        refused(delivery(BODY, { 'webhook-signature': sign('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', old, BODY) }, old)),
      ).toContain('webhook-timestamp is 301 s old');
      const ahead = T + 301;
      expect(
        refused(delivery(BODY, { 'webhook-signature': sign('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', ahead, BODY) }, ahead)),
      ).toContain('webhook-timestamp is 301 s in the future');
    });

    it('a timestamp changed after signing, or not in whole seconds', () => {
      refused(delivery(BODY, { 'webhook-timestamp': String(T + 1) }));
      expect(refused(delivery(BODY, { 'webhook-timestamp': `${T}.0` }))).toContain('not a Unix time in seconds');
      refused(delivery(BODY, { 'webhook-timestamp': new Date(T * 1000).toISOString() }));
    });

    it('a webhook-id changed after signing', () => {
      refused(delivery(BODY, { 'webhook-id': 'msg_other' }));
    });

    it('a missing header, naming which', () => {
      expect(refused(delivery(BODY, { 'webhook-id': undefined }))).toContain('missing header webhook-id');
      expect(refused(delivery(BODY, { 'webhook-signature': undefined, 'webhook-timestamp': '' }))).toContain(
        'missing header webhook-timestamp, webhook-signature',
      );
    });

    it('a wrong key, a tampered body, and a signature of another body', () => {
      refused(
        delivery(BODY, { 'webhook-signature': sign('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', T, BODY, Buffer.alloc(32, 1)) }),
      );
      refused({ ...delivery(BODY), rawBody: Buffer.from(BODY.toString().replace('main', 'mair')) });
      refused(delivery(BODY, { 'webhook-signature': sign('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', T, Buffer.from('{}')) }));
    });

    it('the right MAC under another version, truncated, or differing only in its last character', () => {
      const mac = good.slice(3);
      refused(delivery(BODY, { 'webhook-signature': `v2,${mac}` }));
      refused(delivery(BODY, { 'webhook-signature': mac }));
      refused(delivery(BODY, { 'webhook-signature': `v1,${mac.slice(0, -2)}` }));
      const flipped = `v1,${mac.slice(0, -2)}${mac.at(-2) === 'A' ? 'B' : 'A'}=`;
      expect(flipped).toHaveLength(good.length);
      refused(delivery(BODY, { 'webhook-signature': flipped }));
    });
  });

  it('answers 413 over the limit before any header is read (none is sent here)', () => {
    const request = { ...delivery(BODY), headers: {}, maxBodyBytes: BODY.length - 1 };
    failure(() => receiveStandardWebhook(request), 'KILN_PAYLOAD_TOO_LARGE', 413, [SECRET]);
  });

  it('answers 400 for malformed JSON or a payload without a repository and ref, once the signature is good', () => {
    const bad = (text: string) =>
      failure(() => receiveStandardWebhook(delivery(Buffer.from(text))), 'KILN_BAD_REQUEST', 400, [SECRET]).message;
    expect(bad('{"repository": ')).toContain('the body is not JSON');
    expect(bad('{"ref":"main"}')).toContain('"repository" is missing or not a clone URL');
    expect(bad('{"repository":"file:///etc","ref":"main"}')).toContain('"repository" is missing or not a clone URL');
    expect(bad('{"repository":"https://h/r.git","ref":"refs/pull/1/head"}')).toContain(
      '"ref" is missing or not a branch or tag',
    );
    expect(bad('{"repository":"https://h/r.git","ref":"a..b"}')).toContain('"ref" is missing or not a branch or tag');
    expect(bad('{"repository":"https://h/r.git","ref":"main","commit":"abc123"}')).toContain(
      '"commit" is not a 40-hex',
    );
  });
});

describe('standardWebhookKey', () => {
  it('decodes whsec_ and base64, and refuses a secret that is not base64 or not 24 to 64 bytes, without echoing it', () => {
    expect(standardWebhookKey(SECRET).equals(KEY)).toBe(true);
    for (const secret of [
      '',
      'whsec_',
      'whsec_not base64!',
      'whsec_c2hvcnQ=',
      `whsec_${Buffer.alloc(65).toString('base64')}`,
    ]) {
      const err = failure(() => standardWebhookKey(secret), 'KILN_CONFIG_INVALID', 422, []);
      if (secret.length > 6) expect(err.message).not.toContain(secret.slice(6));
    }
  });
});
