// Finding and recording an artifact's evidence in a registry: the referrers API where there is one, else the
// `sha256-<hex>` tag holding an image index of the referrers (distribution-spec 1.1 "referrers tag schema",
// which cosign and oras also read).
import { type Digest, digestHex, sha256Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import { canonicalJson } from '../core/json.js';
import type { RegistryClient } from './remote/types.js';
import { type Descriptor, type Index, OCI_INDEX } from './types.js';
import { parseIndex } from './validate.js';

/** How a registry keeps referrers: its own API, or the fallback tag Kiln maintains. */
export type ReferrersMode = 'api' | 'tag';

/** The fallback tag of a subject: `sha256-<hex>`. */
export function referrersTag(subject: Digest): string {
  return `sha256-${digestHex(subject)}`;
}

/** The referrers of `subject` in `repository`, and where they were found. */
export async function listReferrers(
  client: RegistryClient,
  repository: string,
  subject: Digest,
): Promise<{ mode: ReferrersMode; referrers: Descriptor[] }> {
  const viaApi = await client.referrersApi(repository, subject);
  if (viaApi !== undefined) return { mode: 'api', referrers: viaApi };
  const index = await fallbackIndex(client, repository, subject);
  return { mode: 'tag', referrers: [...(index?.manifests ?? [])] };
}

/**
 * Makes `added` findable as referrers of `subject` once their manifests are pushed: nothing to do where the
 * registry has the referrers API (it indexes `subject` itself); else merges them into the fallback tag's index.
 */
export async function recordReferrers(
  client: RegistryClient,
  repository: string,
  subject: Digest,
  added: readonly Descriptor[],
): Promise<ReferrersMode> {
  const viaApi = await client.referrersApi(repository, subject);
  if (viaApi !== undefined) return 'api';
  // Read, merge, write, and read again: another writer may have replaced the index in between, so merge again until
  // every descriptor is listed, a few times at most. This narrows the race, it does not close it: registries have no
  // conditional PUT, so a writer that overwrites after our read-back still drops our entries.
  for (let attempt = 0; attempt < 4; attempt++) {
    const existing = (await fallbackIndex(client, repository, subject))?.manifests ?? [];
    if (added.every((d) => existing.some((e) => e.digest === d.digest))) return 'tag';
    const byDigest = new Map<string, Descriptor>(existing.map((d) => [d.digest, d]));
    for (const d of added) byDigest.set(d.digest, d);
    const index: Index = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [...byDigest.values()].sort((a, b) => (a.digest < b.digest ? -1 : 1)),
    };
    await client.putManifest(repository, referrersTag(subject), Buffer.from(canonicalJson(index), 'utf8'), OCI_INDEX);
  }
  throw new KilnError(
    'KILN_REGISTRY_HTTP',
    `${client.registry}/${repository}:${referrersTag(subject)} keeps losing entries`,
    {
      hint: 'another client rewrites the referrers index at the same time; run the command again when it is done',
    },
  );
}

async function fallbackIndex(client: RegistryClient, repository: string, subject: Digest): Promise<Index | undefined> {
  const found = await client.getManifest(repository, referrersTag(subject));
  if (!found) return undefined;
  return parseIndex(found.bytes.toString('utf8'), `${client.registry}/${repository}:${referrersTag(subject)}`);
}

/** A referrer's descriptor as the referrers API lists it: artifactType and annotations from its manifest. */
export function referrerDescriptor(
  bytes: Uint8Array,
  manifest: { artifactType?: string; config: { mediaType: string }; annotations?: Readonly<Record<string, string>> },
): Descriptor {
  return {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: sha256Digest(bytes),
    size: bytes.length,
    artifactType: manifest.artifactType ?? manifest.config.mediaType,
    ...(manifest.annotations ? { annotations: manifest.annotations } : {}),
  };
}
