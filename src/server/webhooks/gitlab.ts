// GitLab push and tag push hooks: verified by X-Gitlab-Token (compared in constant time) before the body is parsed;
// a deleted branch or tag and every other event are acknowledged and trigger nothing.
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

const SENDER = 'GitLab';

/** The GitLab events that can trigger a build, and the `object_kind` their payloads carry. */
const PUSH_EVENTS: Readonly<Record<string, string>> = { 'Push Hook': 'push', 'Tag Push Hook': 'tag_push' };

/** The result of one GitLab delivery: size, token, delivery id, event, then the push payload. */
export function receiveGitlabWebhook(request: WebhookRequest): WebhookResult {
  checkBodySize(request, SENDER);
  verifyGitlabToken(request);
  const idempotencyKey = headerOf(request, 'idempotency-key')?.trim();
  const delivery = deliveryId(request, idempotencyKey ? 'Idempotency-Key' : 'X-Gitlab-Event-UUID', SENDER);
  const event = headerOf(request, 'x-gitlab-event')?.trim();
  if (event === undefined || event === '') {
    throw badRequest(SENDER, 'the X-Gitlab-Event header is missing', 'GitLab sends it with every delivery');
  }
  const objectKind = PUSH_EVENTS[event];
  if (objectKind === undefined) {
    return {
      kind: 'ignored',
      source: 'gitlab',
      delivery,
      reason: `event ${event} (only Push Hook and Tag Push Hook are built)`,
    };
  }
  return readPush(parseJsonObject(request, SENDER), delivery, event, objectKind);
}

/** Checks that X-Gitlab-Token is the configured token, comparing in constant time. */
export function verifyGitlabToken(request: WebhookRequest): void {
  checkSecretConfigured(request, SENDER);
  const token = headerOf(request, 'x-gitlab-token');
  if (token === undefined || token === '') {
    throw unauthenticated(
      SENDER,
      'the X-Gitlab-Token header is missing',
      "set the webhook's Secret token in GitLab (Settings → Webhooks) to the token configured in Kiln",
    );
  }
  if (!constantTimeEqual(Buffer.from(token, 'utf8'), Buffer.from(request.secret, 'utf8'))) {
    throw unauthenticated(
      SENDER,
      'X-Gitlab-Token is not the configured token',
      "set the webhook's Secret token in GitLab to the token configured in Kiln",
    );
  }
}

function readPush(
  payload: Record<string, unknown>,
  delivery: string,
  event: string,
  objectKind: string,
): WebhookResult {
  const { ref, after, checkout_sha: checkoutSha, project } = payload;
  if (payload.object_kind !== objectKind) {
    throw badRequest(
      SENDER,
      `${event} payload: "object_kind" is ${JSON.stringify(payload.object_kind) ?? 'missing'}, expected "${objectKind}"`,
      'send the documented payload for the event named in X-Gitlab-Event',
    );
  }
  if (typeof ref !== 'string' || !isValidRef(ref)) {
    throw badRequest(SENDER, `${event} payload: "ref" is missing or not a git ref`, 'send the documented payload');
  }
  const prefix = objectKind === 'push' ? 'refs/heads/' : 'refs/tags/';
  if (!ref.startsWith(prefix)) {
    throw badRequest(SENDER, `${event} payload: "ref" ${ref} is not under ${prefix}`, 'send the documented payload');
  }
  if (after === ZERO_SHA || checkoutSha === null) {
    return { kind: 'ignored', source: 'gitlab', delivery, reason: `${ref} was deleted` };
  }
  if (typeof checkoutSha !== 'string' || !SHA1_HEX.test(checkoutSha)) {
    throw badRequest(
      SENDER,
      `${event} payload: "checkout_sha" is not a 40-hex commit id`,
      'send the documented payload',
    );
  }
  const url = isObject(project) ? project.git_http_url : undefined;
  if (typeof url !== 'string' || url === '') {
    throw badRequest(SENDER, `${event} payload: "project.git_http_url" is missing`, 'send the documented payload');
  }
  return { kind: 'trigger', source: 'gitlab', delivery, repository: url, ref, commit: checkoutSha, event };
}
