// `kiln publish` (and kiln.yaml's `publish:` after a build): a recorded build's artifacts, by digest, with the
// evidence that build made, copied from where the build published them to a registry.
import type { Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import { type ContentSource, type CopyResult, copyArtifact } from '../registry/copy.js';
import { parseRegistryRef } from '../registry/remote/index.js';
import type { RegistryClient } from '../registry/remote/types.js';
import { getBuild, recordPublication, type Store } from '../store/index.js';
import type { KilnPorts } from './ports.js';

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

/** What `kiln publish` is asked: which build, where (`REGISTRY/REPO[:TAG]`), which tags, which of them may move. */
export interface PublishRequest {
  readonly buildId: string;
  readonly to: string;
  readonly tags: readonly string[];
  readonly mutableTags: readonly string[];
  /** Plain http to a registry that is not on loopback. */
  readonly insecure: boolean;
}

/** Publishes a recorded build; `to` may carry a tag, which `tags` then need not repeat. Mutable tags are set too. */
export async function publish(
  ports: Pick<KilnPorts, 'store' | 'artifacts' | 'registries' | 'events' | 'now'>,
  request: PublishRequest,
): Promise<PublishedRef[]> {
  const to = parseRegistryRef(request.to);
  if (to.digest) {
    throw new KilnError('KILN_USAGE', `--to ${request.to} names a digest`, {
      hint: 'give REGISTRY/REPO or REGISTRY/REPO:TAG',
    });
  }
  const tags = [...new Set([...(to.tag ? [to.tag] : []), ...request.tags, ...request.mutableTags])];
  return publishBuild({
    store: await ports.store(),
    source: await ports.artifacts.source(),
    buildId: request.buildId,
    target: { registry: to.registry, repository: to.repository, tags, mutableTags: request.mutableTags },
    client: ports.registries(to.registry, { insecure: request.insecure }),
    ports,
  });
}

/**
 * Publishes every artifact of a succeeded build. One artifact goes to the repository itself; several go to
 * `<repository>/<artifact name>` each, so no tag has to choose between them.
 */
async function publishBuild(input: {
  store: Store;
  source: ContentSource;
  buildId: string;
  target: PublishTarget;
  client: RegistryClient;
  ports: Pick<KilnPorts, 'events' | 'now'>;
}): Promise<PublishedRef[]> {
  const detail = await getBuild(input.store, input.buildId);
  if (!detail) {
    throw new KilnError('KILN_NOT_FOUND', `no build ${input.buildId} in the store`, {
      hint: 'list builds: kiln builds',
    });
  }
  if (detail.build.status !== 'succeeded' || detail.artifacts.length === 0) {
    throw new KilnError(
      'KILN_USAGE',
      `build ${detail.build.id} ${detail.build.status} and has no artifacts to publish`,
      {
        hint: 'publish a succeeded build (see `kiln builds`)',
      },
    );
  }
  const several = detail.artifacts.length > 1;
  const out: PublishedRef[] = [];
  for (const artifact of detail.artifacts) {
    const repository = several ? `${input.target.repository}/${artifact.name}` : input.target.repository;
    const where = `${input.client.registry}/${repository}`;
    input.ports.events({ kind: 'notice', message: `publishing ${artifact.name} to ${where}` });
    // Exactly this build's evidence: the layout may hold another build's beside it (a --force rebuild of the commit
    // makes the same artifact), and a registry holding both could not tell which files belong together.
    const evidence = detail.evidence
      .filter((e) => e.artifact_name === artifact.name)
      .map((e) => e.manifest_digest as Digest);
    const copied = await copyArtifact(
      input.source,
      input.client,
      repository,
      artifact.manifest_digest as Digest,
      { tags: input.target.tags, mutable: input.target.mutableTags },
      { evidence },
    );
    await recordPublication(input.store, {
      manifest_digest: copied.digest,
      registry: input.client.registry,
      repository,
      build_id: detail.build.id,
      artifact_name: artifact.name,
      published_at: input.ports.now().toISOString(),
    });
    input.ports.events({
      kind: 'artifact-published',
      artifact: artifact.name,
      registry: input.client.registry,
      repository,
      digest: copied.digest,
    });
    out.push({ ...copied, artifact: artifact.name, ref: `${where}@${copied.digest}` });
  }
  return out;
}
