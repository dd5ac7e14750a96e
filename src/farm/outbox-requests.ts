// How the sender POSTs one outbox row, per kind: a CloudEvent signed for its `notify:` target, or a commit status
// with the project's GitHub token; and how each kind reads the answer. Secrets are resolved here, at send time, from
// the current kiln-server.yaml: the outbox holds none, and a row whose target is no longer configured is not sent.
import { resolveSecret, type SecretSources, type ServerConfig } from '../config/index.js';
import { type NotificationRow, type Store, statusNotificationsOf } from '../store/index.js';
import {
  githubMessageOf,
  githubStatusesPrefix,
  githubStatusHeaders,
  githubVerdict,
  isLaterStatus,
} from './github-status.js';
import { standardWebhookHeaders } from './notify-signing.js';

/** How an answer ended an attempt: delivered, worth another attempt (not before `afterMs`), or refused for good. */
export type AnswerVerdict =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'retry'; readonly error: string; readonly afterMs?: number | undefined }
  | { readonly kind: 'refused'; readonly error: string };

/** The request of one row, or why it is not sent (failed: no longer configured; superseded: a newer status exists). */
export type OutboxRequest =
  | {
      readonly kind: 'send';
      readonly headers: Readonly<Record<string, string>>;
      readonly judge: (response: Response) => Promise<AnswerVerdict>;
    }
  | { readonly kind: 'skip'; readonly status: 'failed' | 'superseded'; readonly error: string };

/** What building a request reads. */
export interface RequestDeps {
  readonly store: Store;
  readonly config: ServerConfig;
  readonly secrets: SecretSources;
  readonly userAgent: string;
  readonly now: () => Date;
}

/** The request that sends `row` at `at`. */
export async function outboxRequest(row: NotificationRow, at: Date, deps: RequestDeps): Promise<OutboxRequest> {
  switch (row.kind) {
    case 'cloudevent':
      return cloudEventRequest(row, at, deps);
    case 'github-status':
      return githubStatusRequest(row, deps);
  }
}

async function cloudEventRequest(row: NotificationRow, at: Date, deps: RequestDeps): Promise<OutboxRequest> {
  const target = deps.config.projects.find((p) => p.name === row.project)?.notify[row.target];
  if (!target || target.url !== row.url) {
    return { kind: 'skip', status: 'failed', error: 'the target is no longer configured in kiln-server.yaml' };
  }
  const secret = await resolveSecret(target.secret, deps.secrets);
  return {
    kind: 'send',
    headers: {
      'content-type': 'application/cloudevents+json; charset=utf-8',
      ...standardWebhookHeaders(secret, row.id, Math.floor(at.getTime() / 1000), row.body),
    },
    // Any answer but 2xx may be a receiver briefly down or redeploying: retried until the last attempt.
    judge: async (response) => {
      await response.body?.cancel().catch(() => {});
      if (response.ok) return { kind: 'delivered' };
      return { kind: 'retry', error: `HTTP ${response.status} ${response.statusText}`.trim() };
    },
  };
}

async function githubStatusRequest(row: NotificationRow, deps: RequestDeps): Promise<OutboxRequest> {
  const github = deps.config.projects.find((p) => p.name === row.project)?.statuses.github;
  // The token only ever goes to the statuses API of the repository the current configuration names.
  if (!github || !row.url.startsWith(githubStatusesPrefix(github))) {
    return {
      kind: 'skip',
      status: 'failed',
      error: 'statuses.github of the project no longer names this repository in kiln-server.yaml',
    };
  }
  // GitHub shows the status posted last: an older one sent after a newer one would undo it.
  const newer = (await statusNotificationsOf(deps.store, row.job_id, row.url)).find(
    (other) => other.id !== row.id && isLaterStatus(other, row),
  );
  if (newer) {
    return {
      kind: 'skip',
      status: 'superseded',
      error: `not sent: the job's newer status (${newer.type}) replaces it`,
    };
  }
  const token = await resolveSecret(github.token, deps.secrets);
  return {
    kind: 'send',
    headers: githubStatusHeaders(token, deps.userAgent),
    judge: async (response) => {
      const verdict = githubVerdict(response.status, response.headers, deps.now().getTime());
      if (verdict.kind === 'delivered') {
        await response.body?.cancel().catch(() => {});
        return verdict;
      }
      const message = githubMessageOf((await response.text().catch(() => '')).slice(0, 64 * 1024));
      const error = `HTTP ${response.status}${message === undefined ? '' : `: ${message}`}`;
      return verdict.kind === 'retry'
        ? { kind: 'retry', error, afterMs: verdict.afterMs }
        : {
            kind: 'refused',
            error: `${error} (not retried: GitHub answers this request alike every time; check statuses.github and its token)`,
          };
    },
  };
}
