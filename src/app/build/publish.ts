// The publish stage of a build: each artifact to the artifact target (the OCI layout by default), with every piece
// of its own evidence attached as a referrer (`subject` = the artifact's manifest).
import { EVIDENCE, type EvidenceBytes } from '../../attest/evidence.js';
import { isoFromEpoch } from '../../core/time.js';
import type { ArtifactTarget, PublishedArtifact } from '../../registry/target.js';
import { ANNOTATION_BUILD_ID } from '../../registry/types.js';
import type { SourceRef } from '../../source/index.js';

/** One packed artifact: its kiln.yaml name and format, the file, its title (the delivered file name), its evidence. */
export interface PackedFile {
  readonly name: string;
  readonly format: 'tgz' | 'file';
  readonly file: string;
  readonly title: string;
  readonly evidence: EvidenceBytes;
}

/** Publishes every artifact with its evidence; manifest bytes depend only on content and commit. */
export async function publishArtifacts(
  target: ArtifactTarget,
  input: {
    readonly buildId: string;
    readonly project: string;
    readonly source: SourceRef;
    readonly artifacts: readonly PackedFile[];
    /** Throws when the build was interrupted; called between artifacts. */
    readonly interrupted: () => void;
  },
): Promise<PublishedArtifact[]> {
  const { source } = input;
  const created = isoFromEpoch(source.sourceDateEpoch);
  const published: PublishedArtifact[] = [];
  for (const a of input.artifacts) {
    input.interrupted();
    const artifact = {
      file: a.file,
      mediaType: a.format === 'tgz' ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/octet-stream',
      title: a.title,
      refName: `${input.project}/${a.name}:${source.commit}`,
      annotations: {
        'org.opencontainers.image.created': created,
        'org.opencontainers.image.revision': source.commit,
        'org.opencontainers.image.source': source.repoUrl,
        'org.opencontainers.image.title': a.title,
      },
    };
    const evidence = EVIDENCE.map((e) => ({
      artifactType: e.mediaType,
      mediaType: e.mediaType,
      title: `${a.title}${e.suffix}`,
      bytes: a.evidence[e.kind],
      annotations: {
        [ANNOTATION_BUILD_ID]: input.buildId,
        'dev.kiln.predicate-type': e.predicateType,
        'org.opencontainers.image.created': created,
      },
    }));
    published.push(await target.publish(artifact, evidence));
  }
  return published;
}
