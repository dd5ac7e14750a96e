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
  const attach = async (
    artifactType: string,
    mediaType: string,
    title: string,
    bytes: Buffer,
    predicateType: string,
  ) => {
    const manifest = await layout.attach({
      subject: artifact,
      artifactType,
      mediaType,
      title,
      bytes,
      annotations: {
        'dev.kiln.build-id': opts.buildId,
        'dev.kiln.predicate-type': predicateType,
        'org.opencontainers.image.created': created,
      },
    });
    const body = JSON.parse((await layout.readBlob(manifest.digest)).toString('utf8')) as Manifest;
    return { manifest, layer: body.layers[0] as Descriptor };
  };
  return {
    artifact,
    provenance: await attach(
      SIGSTORE_BUNDLE_V03,
      SIGSTORE_BUNDLE_V03,
      `${opts.title}.sigstore.json`,
      opts.evidence.provenance,
      SLSA_PROVENANCE_V1,
    ),
    sbom: await attach(
      CYCLONEDX_JSON,
      CYCLONEDX_JSON,
      `${opts.title}.cdx.json`,
      opts.evidence.sbom,
      CYCLONEDX_PREDICATE,
    ),
    sbomAttestation: await attach(
      SIGSTORE_BUNDLE_V03,
      SIGSTORE_BUNDLE_V03,
      `${opts.title}.cdx.sigstore.json`,
      opts.evidence.sbomAttestation,
      CYCLONEDX_PREDICATE,
    ),
    spdx: await attach(SPDX_JSON, SPDX_JSON, `${opts.title}.spdx.json`, opts.evidence.spdx, SPDX_PREDICATE),
    spdxAttestation: await attach(
      SIGSTORE_BUNDLE_V03,
      SIGSTORE_BUNDLE_V03,
      `${opts.title}.spdx.sigstore.json`,
      opts.evidence.spdxAttestation,
      SPDX_PREDICATE,
    ),
  };
}
