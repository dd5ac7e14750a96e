// Publishing a recorded build to a registry: each artifact, by digest, with all its evidence, from the OCI layout.
import type { Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import { type CopyResult, copyArtifact } from '../registry/copy.js';
import { openOciLayout } from '../registry/index.js';
import type { RegistryClient } from '../registry/remote/types.js';
import { layoutSource } from '../registry/sources.js';
import { getBuild, recordPublication, type Store } from '../store/index.js';

/** Where to publish: `registry/repository`, the tags to set, and which of them may move. */
export interface PublishTarget {
  readonly registry: string;
  readonly repository: string;
  readonly tags: readonly string[];
  readonly mutableTags: readonly string[];
}

/** One artifact as published: `registry/repo@sha256:…`, and what else was set. */
export interface PublishedRef extends Omit<CopyResult, 'digest'> {
  readonly artifact: string;
  readonly ref: string;
  readonly digest: Digest;
}

/**
 * Publishes every artifact of a succeeded build. One artifact goes to the repository itself; several go to
 * `<repository>/<artifact name>` each, so no tag has to choose between them.
 */
export async function publishBuild(input: {
  store: Store;
  ociDir: string;
  buildId: string;
  target: PublishTarget;
  client: RegistryClient;
  emit: (message: string) => void;
}): Promise<PublishedRef[]> {
  const detail = await getBuild(input.store, input.buildId);
  if (!detail) {
    throw new KilnError('E_NOT_FOUND', `no build ${input.buildId} in the store`, { hint: 'list builds: kiln builds' });
  }
  if (detail.build.status !== 'succeeded' || detail.artifacts.length === 0) {
    throw new KilnError('E_USAGE', `build ${detail.build.id} ${detail.build.status} and has no artifacts to publish`, {
      hint: 'publish a succeeded build (see `kiln builds`)',
    });
  }
  const layout = await openOciLayout(input.ociDir);
  const source = layoutSource(layout);
  const several = detail.artifacts.length > 1;
  const out: PublishedRef[] = [];
  for (const artifact of detail.artifacts) {
    const repository = several ? `${input.target.repository}/${artifact.name}` : input.target.repository;
    const where = `${input.client.registry}/${repository}`;
    input.emit(`publishing ${artifact.name} to ${where}`);
    const copied = await copyArtifact(source, input.client, repository, artifact.manifest_digest as Digest, {
      tags: input.target.tags,
      mutable: input.target.mutableTags,
    });
    await recordPublication(input.store, {
      manifest_digest: copied.digest,
      registry: input.client.registry,
      repository,
      build_id: detail.build.id,
      artifact_name: artifact.name,
      published_at: new Date().toISOString(),
    });
    out.push({ ...copied, artifact: artifact.name, ref: `${where}@${copied.digest}` });
  }
  return out;
}
