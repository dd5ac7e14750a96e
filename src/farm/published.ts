// What a `published` event says: each artifact of a succeeded job's build, by digest, and every OCI place it is in:
// the build's artifact target (the server's OCI layout, or a registry repository) and each registry kiln.yaml's
// `publish:` (or `kiln publish`) copied its manifest to.
import { createHash } from 'node:crypto';

/** Where the server's builds publish to, as its ArtifactTarget names it. */
export interface ArtifactTargetName {
  /** `the OCI layout DIR`, or `REGISTRY/REPOSITORY`. */
  readonly name: string;
  readonly layoutDir: string | undefined;
}

/** One OCI place an artifact manifest is in; `ref` names it by digest. */
export type ArtifactLocation =
  | { readonly kind: 'oci-layout'; readonly layout: string; readonly ref: string }
  | { readonly kind: 'registry'; readonly registry: string; readonly repository: string; readonly ref: string };

/** An artifact as a `published` event carries it. */
export interface PublishedArtifactData {
  readonly name: string;
  /** The digest of the artifact's file (its layer). */
  readonly digest: string;
  /** The digest of the artifact's OCI manifest, which its evidence refers to as subject. */
  readonly manifestDigest: string;
  readonly locations: readonly ArtifactLocation[];
}

/** The artifacts of a build as the store records them, with the registry repositories their manifests were copied to. */
export interface RecordedArtifact {
  readonly name: string;
  readonly digest: string;
  readonly manifestDigest: string;
  readonly registries: readonly { readonly registry: string; readonly repository: string }[];
}

/** Each artifact with every place it is in: the build's target first, then the registries, each once. */
export function publishedArtifacts(
  target: ArtifactTargetName | undefined,
  artifacts: readonly RecordedArtifact[],
): PublishedArtifactData[] {
  return artifacts.map((a) => {
    const places: ArtifactLocation[] = [];
    if (target?.layoutDir !== undefined) {
      places.push({ kind: 'oci-layout', layout: target.layoutDir, ref: `${target.layoutDir}@${a.manifestDigest}` });
    } else if (target !== undefined) {
      places.push(registryLocation(target.name, a.manifestDigest));
    }
    for (const r of a.registries) places.push(registryLocation(`${r.registry}/${r.repository}`, a.manifestDigest));
    const seen = new Set<string>();
    const locations = places.filter((l) => !seen.has(l.ref) && seen.add(l.ref));
    return { name: a.name, digest: a.digest, manifestDigest: a.manifestDigest, locations };
  });
}

/**
 * The id of a job's `published` event: derived from the job, so a receiver can deduplicate it even if it were ever
 * written twice (it is written once, in the transaction that records the job's success).
 */
export function publishedEventId(jobId: string): string {
  return derivedEventId(`kiln published ${jobId}`);
}

/** An event id derived from `what` (the same every time), formatted as a UUID. */
export function derivedEventId(what: string): string {
  const h = createHash('sha256').update(what).digest('hex');
  // Formatted as a UUID (version 8: custom), like every other event id.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((Number.parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function registryLocation(where: string, manifestDigest: string): ArtifactLocation {
  const slash = where.indexOf('/');
  return {
    kind: 'registry',
    registry: where.slice(0, slash),
    repository: where.slice(slash + 1),
    ref: `${where}@${manifestDigest}`,
  };
}
