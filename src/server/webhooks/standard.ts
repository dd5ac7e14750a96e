// A generic signed webhook per the Standard Webhooks specification (symmetric `v1` signatures): any sender that can
// sign `${webhook-id}.${webhook-timestamp}.${body}` with HMAC-SHA256 can ask Kiln to build a repository's ref.
import { createHmac } from 'node:crypto';
import { KilnError } from '../../core/errors.js';
import { fullRef, isValidRef } from '../../core/git-ref.js';
import {
  badRequest,
  checkBodySize,
  constantTimeEqual,
  deliveryId,
  headerOf,
  parseJsonObject,
  unauthenticated,
  type WebhookRequest,
  type WebhookResult,
} from './request.js';

const SENDER = 'Standard Webhooks';
const SECRET_PREFIX = 'whsec_';

/** How far `webhook-timestamp` may be from now, either way (replay protection): five minutes. */
export const TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

/** A Standard Webhooks delivery; `now` is the clock (the system's by default). */
export interface StandardWebhookRequest extends WebhookRequest {
  readonly now?: Date;
}

/** The result of one delivery: size, signature and timestamp, then `{ repository, ref, commit? }`. */
export function receiveStandardWebhook(request: StandardWebhookRequest): WebhookResult {
  checkBodySize(request, SENDER);
  verifyStandardSignature(request);
  const delivery = deliveryId(request, 'webhook-id', SENDER);
  return readTrigger(parseJsonObject(request, SENDER), delivery);
}

/** The HMAC key of a `whsec_<base64>` secret (the prefix is optional): 24 to 64 bytes, as the specification asks. */
export function standardWebhookKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  const canonical = key.toString('base64').replace(/=+$/, '');
  if (encoded === '' || canonical !== encoded.replace(/=+$/, '')) {
    throw new KilnError('KILN_CONFIG_INVALID', 'the Standard Webhooks secret is not whsec_ followed by base64', {
      hint: 'use the secret exactly as the sender shows it (whsec_ and base64), e.g. made by `openssl rand -base64 32`',
    });
  }
  if (key.length < 24 || key.length > 64) {
    throw new KilnError(
      'KILN_CONFIG_INVALID',
      `the Standard Webhooks secret is ${key.length} bytes; 24 to 64 are accepted`,
      {
        hint: 'make a new secret of 32 random bytes: whsec_ followed by `openssl rand -base64 32`',
      },
    );
  }
  return key;
}

/**
 * Checks the three `webhook-*` headers: the timestamp within the tolerance of now, and at least one `v1,<base64>`
 * entry of `webhook-signature` equal (in constant time) to the HMAC-SHA256 of `${id}.${timestamp}.${body}`.
 */
export function verifyStandardSignature(request: StandardWebhookRequest): void {
  const key = standardWebhookKey(request.secret);
  const hint = 'sign with the secret configured in Kiln, and keep the sender clock within five minutes of Kiln';
  const id = headerOf(request, 'webhook-id');
  const timestamp = headerOf(request, 'webhook-timestamp');
  const signatures = headerOf(request, 'webhook-signature');
  const missing = [
    ['webhook-id', id],
    ['webhook-timestamp', timestamp],
    ['webhook-signature', signatures],
  ].filter(([, v]) => v === undefined || v === '');
  if (missing.length > 0) {
    throw unauthenticated(SENDER, `missing header ${missing.map(([n]) => n).join(', ')}`, hint);
  }
  if (!/^\d{1,15}$/.test(timestamp as string)) {
    throw unauthenticated(SENDER, 'webhook-timestamp is not a Unix time in seconds', hint);
  }
  const now = Math.floor((request.now ?? new Date()).getTime() / 1000);
  const age = now - Number(timestamp);
  if (age > TIMESTAMP_TOLERANCE_SECONDS) {
    throw unauthenticated(
      SENDER,
      `webhook-timestamp is ${age} s old; at most ${TIMESTAMP_TOLERANCE_SECONDS} s is accepted`,
      hint,
    );
  }
  if (-age > TIMESTAMP_TOLERANCE_SECONDS) {
    throw unauthenticated(
      SENDER,
      `webhook-timestamp is ${-age} s in the future; at most ${TIMESTAMP_TOLERANCE_SECONDS} s is accepted`,
      hint,
    );
  }
  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`, 'utf8'), request.rawBody]);
  const expected = Buffer.from(createHmac('sha256', key).update(signed).digest('base64'), 'utf8');
  let matched = false;
  for (const entry of (signatures as string).split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    // Every entry is compared, so the time taken does not say which one matched.
    if (constantTimeEqual(Buffer.from(entry.slice(comma + 1), 'utf8'), expected)) matched = true;
  }
  if (!matched) {
    throw unauthenticated(
      SENDER,
      'no v1 entry of webhook-signature matches the body signed with the configured secret',
      hint,
    );
  }
}

/** Clone URLs a trigger may name: http(s), ssh and git URLs, and scp-like `user@host:path`. */
function isRepositoryUrl(value: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a URL with control characters or spaces is refused
  if (value.length > 2048 || /[\u0000-\u0020\u007f]/.test(value)) return false;
  if (/^[\w.-]+@[\w.-]+:[^/].*$/.test(value)) return true;
  try {
    const url = new URL(value);
    return ['https:', 'http:', 'ssh:', 'git:'].includes(url.protocol) && url.hostname !== '';
  } catch {
    return false;
  }
}

function readTrigger(payload: Record<string, unknown>, delivery: string): WebhookResult {
  const hint =
    'send {"repository": "<clone URL>", "ref": "refs/heads/main" or "main", "commit": "<40-hex>" (optional)}';
  const { repository, ref, commit } = payload;
  if (typeof repository !== 'string' || !isRepositoryUrl(repository)) {
    throw badRequest(SENDER, '"repository" is missing or not a clone URL', hint);
  }
  const full = typeof ref === 'string' ? fullRef(ref) : undefined;
  if (full === undefined || !isValidRef(full) || !(full.startsWith('refs/heads/') || full.startsWith('refs/tags/'))) {
    throw badRequest(SENDER, '"ref" is missing or not a branch or tag name', hint);
  }
  if (commit !== undefined && (typeof commit !== 'string' || !/^[0-9a-fA-F]{40}$/.test(commit))) {
    throw badRequest(SENDER, '"commit" is not a 40-hex commit id', hint);
  }
  const commitId = typeof commit === 'string' ? commit.toLowerCase() : undefined;
  return { kind: 'trigger', source: 'standard', delivery, repository, ref: full, commit: commitId, event: 'push' };
}
