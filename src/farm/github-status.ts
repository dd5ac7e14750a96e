// GitHub commit statuses of a project's jobs (`statuses.github` of kiln-server.yaml), as the REST API documents them:
// POST {api}/repos/{owner}/{repo}/statuses/{sha} with {state, target_url, description, context}. The outbox keeps the
// URL and body only; the token is read from its reference when the sender POSTs, and is never stored or logged.
import type { GitHubStatuses } from '../config/index.js';
import type { Job } from './job.js';

/** The states GitHub's statuses API accepts. */
export type GitHubState = 'pending' | 'success' | 'failure' | 'error';

/** A commit status as posted. */
export interface GitHubStatusBody {
  readonly state: GitHubState;
  readonly target_url?: string;
  readonly description: string;
  readonly context: string;
}

/** GitHub cuts a description at 140 characters. */
const DESCRIPTION_MAX = 140;

/**
 * The status of a job's state: pending while queued or running; success; failure when the build failed or the policy
 * blocked it (the commit's fault); error when it was lost or cancelled (nothing was decided about the commit).
 */
export function githubStatusOf(
  job: Pick<Job, 'state' | 'attempt' | 'supersededBy'>,
  artifacts: number,
): { readonly state: GitHubState; readonly description: string } {
  switch (job.state) {
    case 'queued':
      return {
        state: 'pending',
        description: job.attempt === 0 ? 'Queued' : `Queued again after attempt ${job.attempt}`,
      };
    case 'running':
      return { state: 'pending', description: `Building (attempt ${job.attempt})` };
    case 'succeeded':
      return { state: 'success', description: `Built ${artifacts} artifact${artifacts === 1 ? '' : 's'}` };
    case 'failed':
      return { state: 'failure', description: 'The build failed' };
    case 'blocked':
      return { state: 'failure', description: 'Blocked by the policy gate' };
    case 'lost':
      return { state: 'error', description: `Lost: the build infrastructure failed ${job.attempt} times` };
    case 'cancelled':
      return {
        state: 'error',
        description: job.supersededBy === null ? 'Cancelled' : `Cancelled: superseded by job ${job.supersededBy}`,
      };
  }
}

/** Where the status of `commit` is POSTed. */
export function githubStatusUrl(github: GitHubStatuses, commit: string): string {
  return `${githubStatusesPrefix(github)}${encodeURIComponent(commit)}`;
}

/** What every statuses URL of this configuration starts with: the sender POSTs the token to no other. */
export function githubStatusesPrefix(github: GitHubStatuses): string {
  return `${github.api}/repos/${encodeURIComponent(github.owner)}/${encodeURIComponent(github.repo)}/statuses/`;
}

/** The body of the status of `job`. */
export function githubStatusBody(
  github: GitHubStatuses,
  job: Pick<Job, 'id' | 'state' | 'attempt' | 'supersededBy'>,
  artifacts: number,
): GitHubStatusBody {
  const { state, description } = githubStatusOf(job, artifacts);
  return {
    state,
    ...(github.targetUrl !== undefined && { target_url: github.targetUrl.replaceAll('{job}', job.id) }),
    description: description.slice(0, DESCRIPTION_MAX),
    context: github.context,
  };
}

/** The request headers GitHub's REST API asks for. */
export function githubStatusHeaders(token: string, userAgent: string): Record<string, string> {
  return {
    accept: 'application/vnd.github+json',
    authorization: `Bearer ${token}`,
    'x-github-api-version': '2022-11-28',
    'user-agent': userAgent,
    'content-type': 'application/json',
  };
}

/** What to do after GitHub answered a status POST. */
export type GitHubVerdict =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'retry'; readonly afterMs: number | undefined }
  | { readonly kind: 'refused' };

/**
 * How an answer ends the attempt. 2xx: delivered. 5xx, 408, 429, and a 403 that says a rate limit is exhausted:
 * GitHub may take the same request later, so it is retried with backoff (not before `retry-after` or the rate limit's
 * reset). Any other answer (401 bad token, 403 no permission, 404 no such repository for this token, 422 unknown
 * commit or invalid body, a redirect) would be answered alike however often it is sent: the status is refused at once
 * rather than retried for hours, which would only spend the token's rate limit (and repeated bad credentials get a
 * token's requests blocked for a while).
 */
export function githubVerdict(status: number, headers: Headers, now: number): GitHubVerdict {
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  const limited = headers.get('x-ratelimit-remaining') === '0' || headers.has('retry-after');
  if (status >= 500 || status === 408 || status === 429 || (status === 403 && limited)) {
    return { kind: 'retry', afterMs: waitOf(headers, now) };
  }
  return { kind: 'refused' };
}

/** The wait GitHub asked for: `retry-after` seconds, or until `x-ratelimit-reset` when none remain; capped at 1 h. */
function waitOf(headers: Headers, now: number): number | undefined {
  const after = Number(headers.get('retry-after') ?? Number.NaN);
  if (Number.isFinite(after) && after >= 0) return Math.min(after * 1000, 3_600_000);
  const reset = Number(headers.get('x-ratelimit-reset') ?? Number.NaN);
  if (headers.get('x-ratelimit-remaining') === '0' && Number.isFinite(reset)) {
    return Math.min(Math.max(0, reset * 1000 - now), 3_600_000);
  }
  return undefined;
}

/** GitHub's `message` in an error answer (its documented error body), for the delivery log; never the request. */
export function githubMessageOf(text: string): string | undefined {
  try {
    const message = (JSON.parse(text) as { message?: unknown } | null)?.message;
    return typeof message === 'string' ? message.slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}

/** The order of a job's state changes of one time: queued, then started, then the end (a tie breaker). */
export function statusPhase(type: string): number {
  if (type.endsWith('.queued')) return 0;
  if (type.endsWith('.started')) return 1;
  return 2;
}

/** True when status notification `a` was written after `b` (GitHub shows the status posted last). */
export function isLaterStatus(
  a: { readonly created_at: string; readonly type: string },
  b: { readonly created_at: string; readonly type: string },
): boolean {
  return a.created_at > b.created_at || (a.created_at === b.created_at && statusPhase(a.type) > statusPhase(b.type));
}
