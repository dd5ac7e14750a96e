// The webhook receivers, one per endpoint (`/v1/webhooks/github`, `/gitlab`, `/standard`): the HTTP layer reads the
// body (up to the limit), calls the receiver of the path, and answers with the HTTP status of a thrown KilnError code.
import { receiveGithubWebhook } from './github.js';
import { receiveGitlabWebhook } from './gitlab.js';
import type { WebhookResult, WebhookSource } from './request.js';
import { receiveStandardWebhook, type StandardWebhookRequest } from './standard.js';

export { isValidRef } from '../../core/git-ref.js';
export { globMatches } from '../../core/glob.js';
export { receiveGithubWebhook, verifyGithubSignature } from './github.js';
export { receiveGitlabWebhook, verifyGitlabToken } from './gitlab.js';
export type { WebhookIgnored, WebhookRequest, WebhookResult, WebhookSource, WebhookTrigger } from './request.js';
export {
  receiveStandardWebhook,
  type StandardWebhookRequest,
  standardWebhookKey,
  TIMESTAMP_TOLERANCE_SECONDS,
  verifyStandardSignature,
} from './standard.js';

/** The receiver of each source, keyed as in the endpoint path `/v1/webhooks/<source>`. */
export const WEBHOOK_RECEIVERS: Readonly<Record<WebhookSource, (request: StandardWebhookRequest) => WebhookResult>> =
  Object.freeze({
    github: receiveGithubWebhook,
    gitlab: receiveGitlabWebhook,
    standard: receiveStandardWebhook,
  });
