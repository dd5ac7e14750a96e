// Publishes one artifact and its evidence (provenance, SBOM, SBOM attestation) as OCI manifests linked by `subject`.
import { SIGSTORE_BUNDLE_V03 } from '../attest/bundle.js';
import { CYCLONEDX_PREDICATE, SLSA_PROVENANCE_V1 } from '../attest/statement.js';
import type { ArtifactConfig } from '../config/index.js';
import { isoFromEpoch } from '../core/time.js';
import type { Descriptor, Manifest, OciLayout } from '../registry/index.js';
import { SPDX_JSON, SPDX_PREDICATE } from '../sbom/spdx.js';
import type { SourceRef } from '../source/index.js';

/** Media type of a CycloneDX JSON document. */
export const CYCLONEDX_JSON = 'application/vnd.cyclonedx+json';

/** The manifest and its single layer, as recorded in the store. */
export interface PublishedEvidence {
  readonly manifest: Descriptor;
  readonly layer: Descriptor;
}

/** Pushes the artifact (manifest bytes depend only on content and commit) and attaches its evidence. */
export async function publishArtifact(
  layout: OciLayout,
  opts: {
    buildId: string;
    project: string;
    artifact: ArtifactConfig;
    file: string;
    title: string;
    source: SourceRef;
    evidence: { provenance: Buffer; sbom: Buffer; sbomAttestation: Buffer; spdx: Buffer; spdxAttestation: Buffer };
  },
) {
  const created = isoFromEpoch(opts.source.sourceDateEpoch);
  const artifact = await layout.pushArtifact({
    file: opts.file,
    mediaType:
      opts.artifact.format === 'tgz' ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/octet-stream',
    title: opts.title,
    refName: `${opts.project}/${opts.artifact.name}:${opts.source.commit}`,
    annotations: {
      'org.opencontainers.image.created': created,
      'org.opencontainers.image.revision': opts.source.commit,
      'org.opencontainers.image.source': opts.source.repoUrl,
      'org.opencontainers.image.title': opts.title,
    },
  });
  const evidence = (artifactType: string, title: string, bytes: Buffer, predicateType: string) => ({
    subject: artifact,
    artifactType,
    mediaType: artifactType,
    title: `${opts.title}${title}`,
    bytes,
    annotations: {
      'dev.kiln.build-id': opts.buildId,
      'dev.kiln.predicate-type': predicateType,
      'org.opencontainers.image.created': created,
    },
  });
  const e = opts.evidence;
  // One index update names all the evidence at once (each update is a lock and two fsyncs).
  const manifests = await layout.attachAll([
    evidence(SIGSTORE_BUNDLE_V03, '.sigstore.json', e.provenance, SLSA_PROVENANCE_V1),
    evidence(CYCLONEDX_JSON, '.cdx.json', e.sbom, CYCLONEDX_PREDICATE),
    evidence(SIGSTORE_BUNDLE_V03, '.cdx.sigstore.json', e.sbomAttestation, CYCLONEDX_PREDICATE),
    evidence(SPDX_JSON, '.spdx.json', e.spdx, SPDX_PREDICATE),
    evidence(SIGSTORE_BUNDLE_V03, '.spdx.sigstore.json', e.spdxAttestation, SPDX_PREDICATE),
  ]);
  const published = await Promise.all(
    manifests.map(async (manifest): Promise<PublishedEvidence> => {
      const body = JSON.parse((await layout.readBlob(manifest.digest)).toString('utf8')) as Manifest;
      return { manifest, layer: body.layers[0] as Descriptor };
    }),
  );
  const [provenance, sbom, sbomAttestation, spdx, spdxAttestation] = published as [
    PublishedEvidence,
    PublishedEvidence,
    PublishedEvidence,
    PublishedEvidence,
    PublishedEvidence,
  ];
  return { artifact, provenance, sbom, sbomAttestation, spdx, spdxAttestation };
}
