// Paged listings: tags (`/tags/list`) and the referrers API (`/referrers/<digest>`), following `Link: <…>; rel="next"`.
import { type Digest, isDigest } from '../../core/digest.js';
import { KilnError } from '../../core/errors.js';
import { type Descriptor, OCI_INDEX } from '../types.js';
import { type CallContext, statusError } from './failures.js';
import type { HttpResponse } from './http.js';
import { assertDigest, assertRepository } from './ref.js';
import { repositoryScope, type Session } from './session.js';

const MAX_PAGES = 10_000;
const PAGE_MAX_BYTES = 16 << 20;

/** All tags of `repository` in the registry's order; [] when the repository does not exist. */
export async function listTags(s: Session, repository: string): Promise<string[]> {
  assertRepository(repository);
  const ctx = s.context(repository, 'pull', 'tags');
  const tags: string[] = [];
  const complete = await pages(s, s.url(`/v2/${repository}/tags/list?n=1000`), repository, ctx, {}, (res) => {
    const body = json(res, s, ctx) as { tags?: unknown };
    if (body.tags === null || body.tags === undefined) return true;
    if (!Array.isArray(body.tags) || !body.tags.every((t) => typeof t === 'string'))
      invalid(s, ctx, '"tags" is not a list of strings');
    tags.push(...(body.tags as string[]));
    return true;
  });
  return complete ? tags : [];
}

/** Referrers of `subject` by the referrers API; undefined when the registry has none (404, or not an index). */
export async function listReferrers(
  s: Session,
  repository: string,
  subject: Digest,
  artifactType?: string,
): Promise<Descriptor[] | undefined> {
  assertRepository(repository);
  assertDigest(subject, 'referrers are looked up by the subject manifest digest');
  const ctx = s.context(repository, 'pull', `referrers of ${subject}`);
  const query = artifactType === undefined ? '' : `?artifactType=${encodeURIComponent(artifactType)}`;
  const found: Descriptor[] = [];
  let isIndex = true;
  let filtered = true;
  const complete = await pages(
    s,
    s.url(`/v2/${repository}/referrers/${subject}${query}`),
    repository,
    ctx,
    { Accept: OCI_INDEX },
    (res) => {
      const body = jsonOrUndefined(res) as { manifests?: unknown } | undefined;
      if (!body || !Array.isArray(body.manifests)) {
        isIndex = false;
        return false;
      }
      filtered &&=
        artifactType === undefined ||
        (res.headers.get('oci-filters-applied') ?? '').split(',').some((f) => f.trim() === 'artifactType');
      body.manifests.forEach((entry, i) => {
        found.push(descriptor(entry, `manifests[${i}]`, s, ctx));
      });
      return true;
    },
  );
  if (!complete || !isIndex) return undefined;
  return filtered ? found : found.filter((d) => d.artifactType === artifactType);
}

/** Calls `onPage` for each page; false when the first page is a 404. `onPage` returns false to stop early. */
async function pages(
  s: Session,
  first: string,
  repository: string,
  ctx: CallContext,
  headers: Record<string, string>,
  onPage: (res: HttpResponse) => boolean,
): Promise<boolean> {
  const seen = new Set<string>();
  for (let url: string | undefined = first, n = 0; url !== undefined; n++) {
    if (seen.has(url) || n >= MAX_PAGES) invalid(s, ctx, 'its Link headers loop');
    seen.add(url);
    const res = await s.request(
      { method: 'GET', url, headers },
      [repositoryScope(repository, 'pull')],
      ctx,
      PAGE_MAX_BYTES,
    );
    if (res.status === 404 && n === 0) return false;
    if (res.status !== 200) throw statusError(res, ctx);
    if (onPage(res) === false) return true;
    url = nextLink(res, s, ctx);
  }
  return true;
}

/** The `rel="next"` target of a Link header (RFC 8288), resolved against the request; it must stay on the registry. */
function nextLink(res: HttpResponse, s: Session, ctx: CallContext): string | undefined {
  const header = res.headers.get('link');
  if (header === null) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!match || !/;\s*rel="?next"?(?:\s*;|\s*$)/i.test(match[2] ?? '')) continue;
    const next = new URL(match[1] ?? '', res.url);
    if (next.origin !== s.origin) invalid(s, ctx, `its next page link points to another origin (${next.origin})`);
    return next.href;
  }
  return undefined;
}

function descriptor(value: unknown, path: string, s: Session, ctx: CallContext): Descriptor {
  const d = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (
    typeof d.mediaType !== 'string' ||
    !isDigest(d.digest) ||
    !Number.isSafeInteger(d.size) ||
    (d.size as number) < 0
  ) {
    invalid(s, ctx, `${path} is not a descriptor (mediaType, sha256 digest, size)`);
  }
  if (d.artifactType !== undefined && typeof d.artifactType !== 'string')
    invalid(s, ctx, `${path}.artifactType is not a string`);
  const annotations = d.annotations;
  if (
    annotations !== undefined &&
    (typeof annotations !== 'object' ||
      annotations === null ||
      !Object.values(annotations).every((v) => typeof v === 'string'))
  ) {
    invalid(s, ctx, `${path}.annotations is not a map of strings`);
  }
  return Object.freeze({
    mediaType: d.mediaType as string,
    digest: d.digest as Digest,
    size: d.size as number,
    ...(d.artifactType === undefined ? {} : { artifactType: d.artifactType as string }),
    ...(annotations === undefined
      ? {}
      : { annotations: Object.freeze({ ...(annotations as Record<string, string>) }) }),
  });
}

function json(res: HttpResponse, s: Session, ctx: CallContext): Record<string, unknown> {
  const body = jsonOrUndefined(res);
  if (body === undefined) invalid(s, ctx, 'the answer is not a JSON object');
  return body;
}

function jsonOrUndefined(res: HttpResponse): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(res.body.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function invalid(s: Session, ctx: CallContext, why: string): never {
  throw new KilnError(
    'KILN_REGISTRY_HTTP',
    `registry ${s.registry} sent an invalid ${ctx.object} listing for ${ctx.repository}: ${why}`,
    {
      hint: 'the registry does not follow the distribution spec here; report it to its operator',
    },
  );
}
