// Manifests by tag or digest: PUT, GET and HEAD with the digest of the bytes verified, DELETE where allowed.
import { type Digest, isDigest, sha256Digest } from '../../core/digest.js';
import { KilnError } from '../../core/errors.js';
import { OCI_INDEX, OCI_MANIFEST } from '../types.js';
import { registryErrorOf, statusError } from './failures.js';
import type { HttpResponse } from './http.js';
import { assertReference, assertRepository } from './ref.js';
import { repositoryScope, type Session } from './session.js';
import type { FetchedManifest } from './types.js';

/** Docker's v2 manifest and manifest list: accepted when reading, so foreign images resolve too. */
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
/** The Accept header of every manifest GET/HEAD (distribution 2.8 answers 404 for an OCI manifest without it). */
export const MANIFEST_ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST].join(', ');
/** The largest manifest Kiln sends or reads; the distribution spec asks registries to accept at least 4 MiB. */
export const MANIFEST_MAX_BYTES = 4 << 20;

const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/** PUT of a manifest; returns the digest of `bytes`, checked against the registry's Docker-Content-Digest. */
export async function putManifest(
  s: Session,
  repository: string,
  reference: string,
  bytes: Uint8Array,
  mediaType: string,
): Promise<Digest> {
  assertRepository(repository);
  assertReference(reference);
  const digest = sha256Digest(bytes);
  if (isDigest(reference) && reference !== digest)
    usage(
      `manifest bytes hash to ${digest}, but are being pushed as ${reference}`,
      'push by the digest of the exact bytes, or by a tag',
    );
  if (!MEDIA_TYPE_RE.test(mediaType))
    usage(`"${mediaType.slice(0, 100)}" is not a media type`, `use e.g. ${OCI_MANIFEST}`);
  if (bytes.length > MANIFEST_MAX_BYTES)
    usage(
      `manifest ${digest} is ${bytes.length} bytes, more than the ${MANIFEST_MAX_BYTES} registries must accept`,
      'split the content into blobs; a manifest only lists them',
    );
  const ctx = s.context(repository, 'push', `manifest ${reference}`);
  const url = s.url(`/v2/${repository}/manifests/${reference}`);
  const res = await s.request(
    { method: 'PUT', url, headers: { 'Content-Type': mediaType }, body: bytes },
    [repositoryScope(repository, 'pull,push')],
    ctx,
  );
  if (res.status !== 201 && res.status !== 200 && res.status !== 202) throw statusError(res, ctx);
  const stored = res.headers.get('docker-content-digest');
  if (stored !== null && stored !== digest) {
    throw new KilnError(
      'KILN_REGISTRY_HTTP',
      `registry ${s.registry} stored manifest ${reference} of ${repository} as ${stored.slice(0, 80)}, not ${digest}`,
      {
        hint: 'the registry rewrote the manifest (some convert media types); push to a registry that stores manifests byte for byte',
      },
    );
  }
  return digest;
}

/** GET of a manifest; undefined on 404; the bytes are verified against the digest asked for and the one announced. */
export async function getManifest(
  s: Session,
  repository: string,
  reference: string,
): Promise<FetchedManifest | undefined> {
  assertRepository(repository);
  assertReference(reference);
  const ctx = s.context(repository, 'pull', `manifest ${reference}`);
  const url = s.url(`/v2/${repository}/manifests/${reference}`);
  const res = await s.request(
    { method: 'GET', url, headers: { Accept: MANIFEST_ACCEPT } },
    [repositoryScope(repository, 'pull')],
    ctx,
    MANIFEST_MAX_BYTES,
  );
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw statusError(res, ctx);
  const digest = sha256Digest(res.body);
  checkDigest(s, repository, reference, digest, res);
  return Object.freeze({ bytes: res.body, digest, mediaType: mediaTypeOf(res) });
}

/** HEAD of a manifest: its digest (from Docker-Content-Digest, else by fetching it); undefined on 404. */
export async function resolveManifest(s: Session, repository: string, reference: string): Promise<Digest | undefined> {
  assertRepository(repository);
  assertReference(reference);
  const ctx = s.context(repository, 'pull', `manifest ${reference}`);
  const url = s.url(`/v2/${repository}/manifests/${reference}`);
  const res = await s.request(
    { method: 'HEAD', url, headers: { Accept: MANIFEST_ACCEPT } },
    [repositoryScope(repository, 'pull')],
    ctx,
  );
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw statusError(res, ctx);
  const announced = res.headers.get('docker-content-digest');
  if (announced === null || !isDigest(announced)) return (await getManifest(s, repository, reference))?.digest;
  if (isDigest(reference) && announced !== reference) mismatch(s, repository, reference, announced);
  return announced;
}

/** DELETE of a manifest by digest: true when deleted (or already absent), false when the registry forbids deletes. */
export async function deleteManifest(s: Session, repository: string, digest: Digest): Promise<boolean> {
  assertRepository(repository);
  if (!isDigest(digest))
    usage(`"${String(digest).slice(0, 100)}" is not a sha256 digest`, 'manifests are deleted by digest, never by tag');
  const ctx = s.context(repository, 'delete', `manifest ${digest}`);
  const res = await s.request(
    { method: 'DELETE', url: s.url(`/v2/${repository}/manifests/${digest}`) },
    [repositoryScope(repository, 'delete')],
    ctx,
  );
  if (res.status === 202 || res.status === 200 || res.status === 204) return true;
  const code = registryErrorOf(res.body)?.code;
  if (res.status === 404 && (code === 'MANIFEST_UNKNOWN' || code === 'NAME_UNKNOWN')) return true;
  if (res.status === 405 || code === 'UNSUPPORTED') return false;
  throw statusError(res, ctx);
}

function checkDigest(s: Session, repository: string, reference: string, digest: Digest, res: HttpResponse): void {
  if (isDigest(reference) && reference !== digest) mismatch(s, repository, reference, digest);
  const announced = res.headers.get('docker-content-digest');
  if (announced !== null && announced !== digest) mismatch(s, repository, announced.slice(0, 80), digest);
}

function mismatch(s: Session, repository: string, expected: string, actual: string): never {
  throw new KilnError(
    'KILN_VERIFY_FAILED',
    `manifest ${expected} from ${s.registry}/${repository} has digest ${actual}: the registry returned other bytes than it names`,
    {
      hint: 'do not use this copy; the registry or something between it and Kiln changed the content',
    },
  );
}

function mediaTypeOf(res: HttpResponse): string {
  const header = res.headers.get('content-type')?.split(';')[0]?.trim();
  if (header && header !== 'application/json' && MEDIA_TYPE_RE.test(header)) return header;
  try {
    const field = (JSON.parse(res.body.toString('utf8')) as { mediaType?: unknown }).mediaType;
    if (typeof field === 'string' && MEDIA_TYPE_RE.test(field)) return field;
  } catch {
    // Not JSON: report the header as it was.
  }
  return header ?? 'application/octet-stream';
}

function usage(message: string, hint: string): never {
  throw new KilnError('KILN_USAGE', message, { hint });
}
