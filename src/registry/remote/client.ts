// The OCI distribution client: one registry, one set of credentials, every call verified and retried where safe.
import { constants } from 'node:buffer';
import { type Digest, sha256Digest } from '../../core/digest.js';
import { KilnError } from '../../core/errors.js';
import { statusError } from './failures.js';
import { listReferrers, listTags } from './listing.js';
import { deleteManifest, getManifest, putManifest, resolveManifest } from './manifests.js';
import { assertDigest, assertRepository } from './ref.js';
import { createSession, type RegistryClientOptions, repositoryScope, type Session } from './session.js';
import type { RegistryClient } from './types.js';
import { putBlob } from './upload.js';

/**
 * A client for one registry. Throws KILN_USAGE right away (before any request) for a malformed registry name or plain
 * http to a host that is neither loopback nor marked insecure.
 */
export function createRegistryClient(opts: RegistryClientOptions): RegistryClient {
  const s = createSession(opts);
  return Object.freeze({
    registry: s.registry,
    hasBlob: (repository: string, digest: Digest) => hasBlob(s, repository, digest),
    putBlob: (repository, blob, putOpts) => putBlob(s, repository, blob, putOpts?.mountFrom),
    getBlob: (repository: string, digest: Digest, size?: number) => getBlob(s, repository, digest, size),
    putManifest: (repository, reference, bytes, mediaType) => putManifest(s, repository, reference, bytes, mediaType),
    getManifest: (repository, reference) => getManifest(s, repository, reference),
    resolve: (repository, reference) => resolveManifest(s, repository, reference),
    deleteManifest: (repository, digest) => deleteManifest(s, repository, digest),
    listTags: (repository) => listTags(s, repository),
    referrersApi: (repository, subject, artifactType) => listReferrers(s, repository, subject, artifactType),
  } satisfies RegistryClient);
}

async function hasBlob(s: Session, repository: string, digest: Digest): Promise<boolean> {
  checkBlobArgs(repository, digest);
  const ctx = s.context(repository, 'pull', `blob ${digest}`);
  const res = await s.request(
    { method: 'HEAD', url: s.url(`/v2/${repository}/blobs/${digest}`) },
    [repositoryScope(repository, 'pull')],
    ctx,
  );
  if (res.status === 200) return true;
  if (res.status === 404) return false;
  throw statusError(res, ctx);
}

async function getBlob(s: Session, repository: string, digest: Digest, size?: number): Promise<Buffer> {
  checkBlobArgs(repository, digest);
  const ctx = s.context(repository, 'pull', `blob ${digest}`);
  const url = s.url(`/v2/${repository}/blobs/${digest}`);
  // With the size a manifest declares, no more than that is ever read: a registry cannot make Kiln buffer more.
  const limit = size ?? constants.MAX_LENGTH;
  const res = await s.request({ method: 'GET', url }, [repositoryScope(repository, 'pull')], ctx, limit);
  if (res.status !== 200) throw statusError(res, ctx);
  const actual = sha256Digest(res.body);
  if (actual !== digest) {
    throw new KilnError(
      'KILN_VERIFY_FAILED',
      `blob ${digest} from ${s.registry}/${repository} has digest ${actual} (${res.body.length} bytes): the registry returned other content`,
      {
        hint: 'do not use this copy; the registry or something between it and Kiln changed the content',
      },
    );
  }
  return res.body;
}

function checkBlobArgs(repository: string, digest: Digest): void {
  assertRepository(repository);
  assertDigest(digest, 'blobs are addressed as sha256:<64 lower-case hex>');
}
