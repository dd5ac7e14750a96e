// What every webhook receiver shares: the request it is given, the result it returns, and the checks that come before
// any payload is trusted (size first, then the signature, then the JSON), each failing with the code of its HTTP status.
import { timingSafeEqual } from 'node:crypto';
import { KilnError } from '../../core/errors.js';

/** One delivery as the HTTP layer read it: header names lower-cased, the body exactly as received. */
export interface WebhookRequest {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly rawBody: Buffer;
  /** The secret (GitHub, Standard Webhooks) or token (GitLab) configured for this endpoint, already resolved. */
  readonly secret: string;
  /** The largest body accepted, in bytes; the caller also stops reading past it. */
  readonly maxBodyBytes: number;
}

/** Who sent a delivery: one receiver each. */
export type WebhookSource = 'github' | 'gitlab' | 'standard';

/** A verified delivery that asks for a build of `commit` (or of the head of `ref` when the sender named no commit). */
export interface WebhookTrigger {
  readonly kind: 'trigger';
  readonly source: WebhookSource;
  /** The sender's id of this delivery, the same on redelivery: the key to deduplicate by. */
  readonly delivery: string;
  /** The clone URL the payload names (GitHub `repository.clone_url`, GitLab `project.git_http_url`). */
  readonly repository: string;
  /** The full ref: `refs/heads/main`, `refs/tags/v1.2.0`. */
  readonly ref: string;
  /** 40 lower-case hex digits: the commit pushed (for a tag, the commit it points to); absent only when not sent. */
  readonly commit: string | undefined;
  /** The sender's event name: `push`, `Push Hook`, `Tag Push Hook`. */
  readonly event: string;
}

/** A verified delivery that triggers nothing (a ping, a deleted branch, an event Kiln does not build on). */
export interface WebhookIgnored {
  readonly kind: 'ignored';
  readonly source: WebhookSource;
  readonly delivery: string;
  readonly reason: string;
}

/** What a receiver makes of a verified delivery; anything unverifiable or malformed is thrown as a KilnError. */
export type WebhookResult = WebhookTrigger | WebhookIgnored;

/** The value of header `name` (lower-case), whatever case the caller's keys are in. */
export function headerOf(request: WebhookRequest, name: string): string | undefined {
  const exact = request.headers[name];
  if (exact !== undefined) return exact;
  for (const [key, value] of Object.entries(request.headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}

/** The 413 check, first of all: nothing of a body over the limit is read, hashed or parsed. */
export function checkBodySize(request: WebhookRequest, sender: string): void {
  const limit = request.maxBodyBytes;
  if (!Number.isSafeInteger(limit) || limit <= 0) {
    throw new TypeError(`maxBodyBytes must be a positive integer, got ${String(limit)}`);
  }
  if (request.rawBody.length > limit) {
    throw new KilnError(
      'KILN_PAYLOAD_TOO_LARGE',
      `${sender} webhook body is ${request.rawBody.length} bytes; the limit is ${limit} bytes`,
      { hint: 'send only push events to this endpoint, or raise the webhook body limit in the server configuration' },
    );
  }
}

/** Refuses an empty secret: an HMAC with an empty key, or an empty token, would let anyone through. */
export function checkSecretConfigured(request: WebhookRequest, sender: string): void {
  if (request.secret.length === 0) {
    throw new KilnError('KILN_CONFIG_INVALID', `the ${sender} webhook secret is empty`, {
      hint: 'configure a long random secret for this webhook, and the same one at the sender',
    });
  }
}

/**
 * Whether `a` and `b` hold the same bytes, in time that depends on neither's content: `timingSafeEqual` over
 * equal-length buffers; when the lengths differ, `b` is compared with itself (so the same work is done) and the
 * answer is false.
 */
export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  const sameLength = a.length === b.length;
  const equal = timingSafeEqual(sameLength ? a : b, b);
  return sameLength && equal;
}

/** A 401 for a delivery that does not verify; `what` says which check failed, never the secret or signature. */
export function unauthenticated(sender: string, what: string, hint: string): KilnError {
  return new KilnError('KILN_UNAUTHENTICATED', `${sender} webhook not verified: ${what}`, { hint });
}

/** A 400 for a verified delivery Kiln cannot read. */
export function badRequest(sender: string, what: string, hint: string, cause?: unknown): KilnError {
  return new KilnError('KILN_BAD_REQUEST', `${sender} webhook: ${what}`, { hint, cause });
}

/** Printable ASCII without spaces, 1 to 200 characters: what a delivery id may be (UUIDs, `msg_…`). */
const DELIVERY_ID = /^[\x21-\x7e]{1,200}$/;

/** The delivery id from `header` (named as the sender spells it), required and sane, since deduplication keys on it. */
export function deliveryId(request: WebhookRequest, header: string, sender: string): string {
  const value = headerOf(request, header.toLowerCase())?.trim();
  if (value === undefined || value === '') {
    throw badRequest(sender, `the ${header} header is missing`, `${sender} sends it with every delivery`);
  }
  if (!DELIVERY_ID.test(value)) {
    throw badRequest(sender, `the ${header} header is not a delivery id (printable ASCII, at most 200 characters)`, '');
  }
  return value;
}

/** The body as a JSON object, after the signature has been checked. */
export function parseJsonObject(request: WebhookRequest, sender: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(request.rawBody.toString('utf8'));
  } catch (err) {
    throw badRequest(
      sender,
      `the body is not JSON (${request.rawBody.length} bytes)`,
      'configure the webhook with the content type application/json',
      err,
    );
  }
  if (!isObject(value)) {
    throw badRequest(sender, 'the body is JSON but not an object', 'send the documented push payload');
  }
  return value;
}

/** True for a plain JSON object. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A full git object id: 40 hex digits. */
export const SHA1_HEX = /^[0-9a-f]{40}$/;

/** The all-zero id a push reports for a ref that was deleted (or did not exist). */
export const ZERO_SHA = '0'.repeat(40);
