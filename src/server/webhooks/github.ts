// GitHub `push` deliveries (branches and tags): verified by X-Hub-Signature-256 before the body is parsed; a ping,
// a deleted ref and every other event are acknowledged and trigger nothing.
import { createHmac } from 'node:crypto';
import { isValidRef } from '../../core/git-ref.js';
import {
  badRequest,
  checkBodySize,
  checkSecretConfigured,
  constantTimeEqual,
  deliveryId,
  headerOf,
  isObject,
  parseJsonObject,
  SHA1_HEX,
  unauthenticated,
  type WebhookRequest,
  type WebhookResult,
  ZERO_SHA,
} from './request.js';

const SENDER = 'GitHub';
const SIGNATURE_HINT = "set the webhook's secret in GitHub to the secret configured for it in Kiln";

/** The result of one GitHub delivery: size, signature, delivery id, event, then the push payload. */
export function receiveGithubWebhook(request: WebhookRequest): WebhookResult {
  checkBodySize(request, SENDER);
  verifyGithubSignature(request);
  const delivery = deliveryId(request, 'X-GitHub-Delivery', SENDER);
  const event = headerOf(request, 'x-github-event')?.trim();
  if (event === undefined || event === '') {
    throw badRequest(SENDER, 'the X-GitHub-Event header is missing', 'GitHub sends it with every delivery');
  }
  if (event === 'ping') return { kind: 'ignored', source: 'github', delivery, reason: 'ping' };
  if (event !== 'push') {
    return { kind: 'ignored', source: 'github', delivery, reason: `event ${event} (only push is built)` };
  }
  return readPush(parseJsonObject(request, SENDER), delivery);
}

/**
 * Checks `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>` against the configured secret, comparing
 * the whole header text in constant time. GitHub writes the hex in lower case; any other spelling is refused.
 */
export function verifyGithubSignature(request: WebhookRequest): void {
  checkSecretConfigured(request, SENDER);
  const header = headerOf(request, 'x-hub-signature-256');
  if (header === undefined || header === '') {
    const sha1Only = headerOf(request, 'x-hub-signature') !== undefined;
    throw unauthenticated(
      SENDER,
      sha1Only
        ? 'only an X-Hub-Signature (SHA-1) header was sent; Kiln requires X-Hub-Signature-256'
        : 'the X-Hub-Signature-256 header is missing',
      'give the webhook a secret in GitHub (Settings → Webhooks), the same one configured in Kiln',
    );
  }
  const expected = `sha256=${createHmac('sha256', request.secret).update(request.rawBody).digest('hex')}`;
  if (!constantTimeEqual(Buffer.from(header, 'utf8'), Buffer.from(expected, 'utf8'))) {
    throw unauthenticated(
      SENDER,
      'X-Hub-Signature-256 does not match the body signed with the configured secret',
      SIGNATURE_HINT,
    );
  }
}

function readPush(payload: Record<string, unknown>, delivery: string): WebhookResult {
  const { ref, after, deleted, repository } = payload;
  if (typeof ref !== 'string' || !isValidRef(ref)) {
    throw badRequest(SENDER, 'push payload: "ref" is missing or not a git ref', 'send the documented push payload');
  }
  if (deleted === true || after === ZERO_SHA) {
    return { kind: 'ignored', source: 'github', delivery, reason: `${ref} was deleted` };
  }
  if (!ref.startsWith('refs/heads/') && !ref.startsWith('refs/tags/')) {
    return { kind: 'ignored', source: 'github', delivery, reason: `${ref} is neither a branch nor a tag` };
  }
  if (typeof after !== 'string' || !SHA1_HEX.test(after)) {
    throw badRequest(SENDER, 'push payload: "after" is not a 40-hex commit id', 'send the documented push payload');
  }
  const cloneUrl = isObject(repository) ? repository.clone_url : undefined;
  if (typeof cloneUrl !== 'string' || cloneUrl === '') {
    throw badRequest(SENDER, 'push payload: "repository.clone_url" is missing', 'send the documented push payload');
  }
  // For an annotated tag `after` is the tag object; `head_commit` is the commit it points to.
  const head = isObject(payload.head_commit) ? payload.head_commit.id : undefined;
  const commit = ref.startsWith('refs/tags/') && typeof head === 'string' && SHA1_HEX.test(head) ? head : after;
  return { kind: 'trigger', source: 'github', delivery, repository: cloneUrl, ref, commit, event: 'push' };
}
