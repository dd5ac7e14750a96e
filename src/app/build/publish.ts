// Publishes one artifact and its evidence (see evidence.ts) as OCI manifests linked to it by `subject`.

import { EVIDENCE, type EvidenceBytes, type EvidenceKind } from '../../attest/evidence.js';
import type { ArtifactConfig } from '../../config/index.js';
import { isoFromEpoch } from '../../core/time.js';
import type { Descriptor, Manifest, OciLayout } from '../../registry/index.js';
import type { SourceRef } from '../../source/index.js';

/** The manifest and its single layer, as recorded in the store. */
export interface PublishedEvidence {
  readonly kind: EvidenceKind;
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
    evidence: EvidenceBytes;
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
  const attached = EVIDENCE.map((e) => ({
    subject: artifact,
    artifactType: e.mediaType,
    mediaType: e.mediaType,
    title: `${opts.title}${e.suffix}`,
    bytes: opts.evidence[e.kind],
    annotations: {
      'dev.kiln.build-id': opts.buildId,
      'dev.kiln.predicate-type': e.predicateType,
      'org.opencontainers.image.created': created,
    },
  }));
  // One index update names all the evidence at once (each update is a lock and two fsyncs).
  const manifests = await layout.attachAll(attached);
  const evidence = await Promise.all(
    manifests.map(async (manifest, i): Promise<PublishedEvidence> => {
      const body = JSON.parse((await layout.readBlob(manifest.digest)).toString('utf8')) as Manifest;
      return { kind: EVIDENCE[i]?.kind as EvidenceKind, manifest, layer: body.layers[0] as Descriptor };
    }),
  );
  return { artifact, evidence };
}
