// The webhook endpoints (`POST /v1/webhooks/<source>`): open, since the signature (or GitLab's token) is the
// authentication. The body is read up to the limit and no further; its repository picks the configured projects
// (a repository none builds is never fetched); each project's secret for the source is tried; the projects it verifies
// for build the pushed commit, once per delivery id however often it is delivered.
import type { Context } from 'hono';
import { isKilnError, KilnError } from '../core/errors.js';
import { WEBHOOK_RECEIVERS, type WebhookResult, type WebhookSource } from './webhooks/index.js';
import { isObject } from './webhooks/request.js';

/** A job a delivery queued. */
export interface DeliveredBuild {
  readonly project: string;
  readonly id: string;
}

/** What the webhook endpoints need of the server's configuration and store (`kiln serve --config` composes it). */
export interface WebhookPorts {
  /** The largest body read, in bytes (`limits.webhookBodyBytes`). */
  readonly maxBodyBytes: number;
  /** The configured projects built from the repository at `url`, in file order; none for any other repository. */
  projectsOf(url: string): readonly string[];
  /**
   * The project's secret (GitLab: token) for `source`, resolved; undefined when the project has no such webhook, or
   * its secret cannot be read (the server logs why; the sender is not told).
   */
  secret(project: string, source: WebhookSource): Promise<string | undefined>;
  /** Whether the project builds pushes to the full ref `ref` (its branch and tag globs). */
  buildsRef(project: string, ref: string): boolean;
  /** Records the delivery as received, atomically: true for the first receipt, false when it was recorded before. */
  claim(source: WebhookSource, delivery: string): Promise<boolean>;
  /** The jobs the first receipt of the delivery queued. */
  recorded(source: WebhookSource, delivery: string): Promise<readonly DeliveredBuild[]>;
  /** Writes the jobs the delivery queued. */
  record(source: WebhookSource, delivery: string, builds: readonly DeliveredBuild[]): Promise<void>;
  /** Forgets the delivery (its builds could not be queued), so the sender's redelivery tries again. */
  release(source: WebhookSource, delivery: string): Promise<void>;
}

/** What a verified push asks of the build service. */
export type WebhookSubmit = (request: {
  project: string;
  ref: string;
  commit: string | undefined;
}) => Promise<{ id: string; deduplicated: boolean }>;

/** Answers one delivery to `/v1/webhooks/<source>`. */
export async function receiveWebhook(
  c: Context,
  source: WebhookSource,
  ports: WebhookPorts,
  submit: WebhookSubmit,
): Promise<Response> {
  const rawBody = await readBody(c.req.raw, ports.maxBodyBytes, source);
  const url = repositoryOf(rawBody, source);
  const projects = ports.projectsOf(url);
  if (projects.length === 0) {
    throw new KilnError('KILN_NOT_FOUND', `no project of the server configuration builds the repository ${url}`, {
      hint: 'add the repository to kiln-server.yaml, or point the webhook at the server that builds it',
    });
  }
  const headers = c.req.header();
  let result: WebhookResult | undefined;
  let refused: unknown;
  let configured = 0;
  const verified: string[] = [];
  for (const project of projects) {
    const secret = await ports.secret(project, source);
    if (secret === undefined) continue;
    configured++;
    try {
      result = WEBHOOK_RECEIVERS[source]({ headers, rawBody, secret, maxBodyBytes: ports.maxBodyBytes });
      verified.push(project);
    } catch (err) {
      if (!isKilnError(err) || err.code !== 'KILN_UNAUTHENTICATED') throw err;
      refused = err;
    }
  }
  if (configured === 0) {
    throw new KilnError('KILN_NOT_FOUND', `no project of the repository ${url} has a ${source} webhook configured`, {
      hint: `configure webhooks.${source === 'gitlab' ? 'gitlab.token' : `${source}.secret`} for its project in kiln-server.yaml (or, if it is, make its secret readable: see the server log)`,
    });
  }
  if (result === undefined) throw refused;
  if (result.kind === 'ignored') return c.json({ delivery: result.delivery, ignored: result.reason }, 200);

  const { delivery, ref, commit } = result;
  if (!(await ports.claim(source, delivery))) {
    return c.json({ delivery, duplicate: true, builds: await ports.recorded(source, delivery) }, 200);
  }
  const builds: { project: string; id: string; deduplicated: boolean }[] = [];
  const ignored: { project: string; reason: string }[] = [];
  try {
    for (const project of verified) {
      if (!ports.buildsRef(project, ref)) {
        ignored.push({ project, reason: `${ref} is not among the branches or tags it builds` });
        continue;
      }
      const { id, deduplicated } = await submit({ project, ref, commit });
      builds.push({ project, id, deduplicated });
    }
    await ports.record(
      source,
      delivery,
      builds.map((b) => ({ project: b.project, id: b.id })),
    );
  } catch (err) {
    await ports.release(source, delivery).catch(() => undefined);
    throw err;
  }
  return c.json({ delivery, builds, ignored }, 202);
}

/**
 * The body, read until `limit` bytes and not one chunk further: a Content-Length over the limit is refused before
 * anything is read, and a body that grows past it (chunked, or lying about its length) is cancelled as it does.
 */
export async function readBody(request: Request, limit: number, source: WebhookSource): Promise<Buffer> {
  const tooLarge = (size: string) =>
    new KilnError('KILN_PAYLOAD_TOO_LARGE', `${source} webhook body is ${size} bytes; the limit is ${limit} bytes`, {
      hint: 'send only push events to this endpoint, or raise limits.webhookBodyBytes in kiln-server.yaml',
    });
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > limit) throw tooLarge(declared);
  if (request.body === null) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(`over ${limit}`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/**
 * The repository a delivery names, read only to find its projects (nothing else of an unverified body is trusted):
 * GitHub `repository.clone_url`, GitLab `project.git_http_url`, Standard Webhooks `repository`.
 */
function repositoryOf(rawBody: Buffer, source: WebhookSource): string {
  let payload: unknown;
  try {
    payload = JSON.parse(rawBody.toString('utf8'));
  } catch {
    payload = undefined;
  }
  const url = !isObject(payload)
    ? undefined
    : source === 'github'
      ? isObject(payload.repository)
        ? payload.repository.clone_url
        : undefined
      : source === 'gitlab'
        ? isObject(payload.project)
          ? payload.project.git_http_url
          : undefined
        : payload.repository;
  if (typeof url !== 'string' || url === '') {
    const field = { github: 'repository.clone_url', gitlab: 'project.git_http_url', standard: 'repository' }[source];
    throw new KilnError('KILN_BAD_REQUEST', `${source} webhook: the body is not a JSON object with "${field}"`, {
      hint: 'configure the webhook with the content type application/json, and send the documented payload',
    });
  }
  return url;
}
