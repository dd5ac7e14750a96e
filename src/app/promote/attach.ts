// The signed promotion statement (https://kiln.dev/promotion/v1), attached to the artifact in the environment's
// repository as a referrer, like the build's own evidence.
import { promises as fsp } from 'node:fs';
import { bundleBytes, signStatement } from '../../attest/bundle.js';
import { makeStatement } from '../../attest/statement.js';
import { type Digest, sha256Digest } from '../../core/digest.js';
import { canonicalJson } from '../../core/json.js';
import { EMPTY_JSON, evidenceManifest } from '../../registry/manifest.js';
import { recordReferrers, referrerDescriptor } from '../../registry/referrers.js';
import { OCI_MANIFEST } from '../../registry/types.js';
import { parseManifest } from '../../registry/validate.js';
import { PROMOTION_PREDICATE, type PromoteInput } from './types.js';

/** Signs the promotion statement and attaches it to the artifact in the environment's repository. */
export async function attachPromotion(
  input: PromoteInput,
  fetched: { digest: Digest; path: string },
  at: { from: string; to: string; tag: string; promotedAt: string; copied: Digest },
): Promise<Digest> {
  const { environment: env } = input;
  const fileDigest = sha256Digest(await fsp.readFile(fetched.path));
  const name = fetched.path.split('/').pop() ?? 'artifact';
  const statement = makeStatement([{ name, digest: fileDigest }], PROMOTION_PREDICATE, {
    environment: env.name,
    from: at.from,
    to: at.to,
    artifact: { manifestDigest: fetched.digest },
    promotedOn: at.promotedAt,
    promoter: { keyHint: input.signer.keyHint },
  });
  const bundle = bundleBytes(await signStatement(statement, input.signer));
  const layer = {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    digest: sha256Digest(bundle),
    size: bundle.length,
  };
  const empty = Buffer.from(EMPTY_JSON);
  await env.client.putBlob(env.repository, { digest: layer.digest, size: layer.size, source: bundle });
  await env.client.putBlob(env.repository, { digest: sha256Digest(empty), size: empty.length, source: empty });
  const artifactBytes = (await env.client.getManifest(env.repository, fetched.digest))?.bytes ?? Buffer.alloc(0);
  const manifest = evidenceManifest({
    subject: { mediaType: OCI_MANIFEST, digest: fetched.digest, size: artifactBytes.length },
    layer: { ...layer },
    title: `${name}.promotion-${env.name}.sigstore.json`,
    artifactType: layer.mediaType,
    annotations: { 'dev.kiln.predicate-type': PROMOTION_PREDICATE, 'org.opencontainers.image.created': at.promotedAt },
  });
  const bytes = Buffer.from(canonicalJson(manifest), 'utf8');
  const digest = await env.client.putManifest(env.repository, sha256Digest(bytes), bytes, OCI_MANIFEST);
  await recordReferrers(env.client, env.repository, fetched.digest, [
    referrerDescriptor(bytes, parseManifest(bytes.toString('utf8'), 'the promotion manifest')),
  ]);
  return digest;
}
