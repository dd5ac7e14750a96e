// Standard Webhooks signatures of outgoing notifications (https://www.standardwebhooks.com): what a receiver checks.
import { createHmac } from 'node:crypto';

/**
 * The HMAC key of a notification secret: a Standard Webhooks `whsec_<base64>` secret is decoded as the specification
 * says; any other text (the config does not require whsec_ for notify targets) signs with its UTF-8 bytes.
 */
export function notifySigningKey(secret: string): Buffer {
  const body = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : undefined;
  if (body !== undefined && body !== '' && /^[A-Za-z0-9+/]+={0,2}$/.test(body)) return Buffer.from(body, 'base64');
  return Buffer.from(secret, 'utf8');
}

/** The Standard Webhooks headers of `body` sent as message `id` at `timestamp` (Unix seconds). */
export function standardWebhookHeaders(
  secret: string,
  id: string,
  timestamp: number,
  body: string,
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  const signature = createHmac('sha256', notifySigningKey(secret))
    .update(`${id}.${timestamp}.${body}`, 'utf8')
    .digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` };
}
