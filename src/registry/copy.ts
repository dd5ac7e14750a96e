// Copies an artifact by digest, with its evidence, from an OCI layout or a registry to a registry. The order
// means no reader ever sees a reference to missing content: blobs, the artifact manifest, the evidence manifests,
// their referrers entry, and the tags last. Running it again after an interruption completes it.
import type { Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import { runSlots } from '../core/slots.js';
import { type ReferrersMode, recordReferrers, referrerDescriptor } from './referrers.js';
import type { RegistryClient } from './remote/types.js';
import type { Descriptor, Manifest } from './types.js';
import { OCI_MANIFEST } from './types.js';
import { parseManifest } from './validate.js';

/** Where content is copied from: manifests and blobs by digest (verified), and an artifact's referrers. */
export interface ContentSource {
  /** Names the source in messages: `the OCI layout /home/u/.kiln/oci`, `127.0.0.1:5000/app`. */
  readonly name: string;
  manifest(digest: Digest): Promise<Buffer>;
  /** A blob as a file path (streamed when pushed) or bytes. */
  blob(digest: Digest, size: number): Promise<string | Uint8Array>;
  referrers(subject: Digest): Promise<readonly Descriptor[]>;
  /** Set when the source is a repository of the target's registry: blobs are mounted from it, not uploaded. */
  readonly mountFrom?: { readonly registry: string; readonly repository: string };
}

/** Which tags may be set, and which of them may move. */
export interface TagRules {
  readonly tags: readonly string[];
  readonly mutable: readonly string[];
}

/** What a copy did: the artifact digest, its evidence, and how referrers are recorded there. */
export interface CopyResult {
  readonly digest: Digest;
  readonly evidence: readonly Descriptor[];
  readonly referrers: ReferrersMode;
  readonly tags: readonly string[];
}

/** Copies the artifact manifest `digest` and its evidence (referrers) from `source` to `repository` of `client`. */
export async function copyArtifact(
  source: ContentSource,
  client: RegistryClient,
  repository: string,
  digest: Digest,
  rules: TagRules,
  /** Exactly these evidence manifests (the evidence of one build, or what was verified), else every referrer. */
  opts: { readonly evidence?: readonly Digest[] } = {},
): Promise<CopyResult> {
  const target = `${client.registry}/${repository}`;
  // Refuse a moved tag before anything is pushed: a refused copy changes nothing a reader could see.
  for (const tag of rules.tags) await assertTagMayPoint(client, repository, tag, digest, rules);
  const artifactBytes = await source.manifest(digest);
  const artifact = parseManifest(artifactBytes.toString('utf8'), `manifest ${digest} from ${source.name}`);
  const evidence: { descriptor: Descriptor; bytes: Buffer; manifest: Manifest }[] = [];
  for (const ref of await source.referrers(digest)) {
    if (opts.evidence && !opts.evidence.includes(ref.digest)) continue;
    const bytes = await source.manifest(ref.digest);
    const manifest = parseManifest(bytes.toString('utf8'), `manifest ${ref.digest} from ${source.name}`);
    if (manifest.subject?.digest !== digest) continue;
    evidence.push({ descriptor: referrerDescriptor(bytes, manifest), bytes, manifest });
  }
  // The evidence asked for must still be there: a copy without it would carry less than was built or checked.
  const missing = (opts.evidence ?? []).filter((d) => !evidence.some((e) => e.descriptor.digest === d));
  if (missing.length > 0) {
    throw new KilnError(
      'KILN_VERIFY_FAILED',
      `${source.name} no longer lists evidence ${missing.join(', ')} of ${digest}`,
      {
        hint: 'it was there when the build recorded or the check read it, and is gone now (a concurrent gc or push?): run the command again',
      },
    );
  }
  const mountFrom =
    source.mountFrom?.registry === client.registry && source.mountFrom.repository !== repository
      ? { mountFrom: source.mountFrom.repository }
      : {};
  const blobs = new Map<string, Descriptor>();
  for (const m of [artifact, ...evidence.map((e) => e.manifest)]) {
    for (const d of [m.config, ...m.layers]) blobs.set(d.digest, d);
  }
  // Blobs, then manifests, each group several at a time: every request is a round trip, and they do not depend on
  // each other within a group.
  await inParallel([...blobs.values()], (d) =>
    client.putBlob(
      repository,
      { digest: d.digest, size: d.size, source: () => source.blob(d.digest, d.size) },
      mountFrom,
    ),
  );
  await putExact(client, repository, digest, artifactBytes, target);
  await inParallel(evidence, (e) => putExact(client, repository, e.descriptor.digest, e.bytes, target));
  const referrers = await recordReferrers(
    client,
    repository,
    digest,
    evidence.map((e) => e.descriptor),
  );
  await tagArtifact(client, repository, digest, artifactBytes, rules);
  return { digest, evidence: evidence.map((e) => e.descriptor), referrers, tags: [...rules.tags] };
}

/**
 * Points `rules.tags` at the artifact (its exact manifest bytes), each checked again right before it is set: a tag
 * created meanwhile is not overwritten unless mutable (registries have no conditional PUT; this narrows the race).
 */
export async function tagArtifact(
  client: RegistryClient,
  repository: string,
  digest: Digest,
  artifactBytes: Buffer,
  rules: TagRules,
): Promise<void> {
  for (const tag of rules.tags) {
    await assertTagMayPoint(client, repository, tag, digest, rules);
    await client.putManifest(repository, tag, artifactBytes, OCI_MANIFEST);
  }
}

/** Concurrent requests to one registry: enough to hide round trips, few enough not to be rate limited. */
const PARALLEL_REQUESTS = 4;

async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<unknown>): Promise<void> {
  const slots = runSlots(PARALLEL_REQUESTS);
  await Promise.all(
    items.map(async (item) => {
      const release = await slots.acquire();
      try {
        await work(item);
      } finally {
        release();
      }
    }),
  );
}

/** A tag may be set when it is new, already points at `digest`, or is listed as mutable. */
async function assertTagMayPoint(
  client: RegistryClient,
  repository: string,
  tag: string,
  digest: Digest,
  rules: TagRules,
): Promise<void> {
  if (rules.mutable.includes(tag)) return;
  const current = await client.resolve(repository, tag);
  if (current === undefined || current === digest) return;
  throw new KilnError(
    'KILN_TAG_IMMUTABLE',
    `${client.registry}/${repository}:${tag} already points at ${current}; moving it to ${digest} is refused`,
    {
      hint: `tags are immutable unless listed in publish.mutableTags (or the environment's tag, which promotion moves); publish under a new tag, or by digest: ${client.registry}/${repository}@${digest}`,
      details: { tag, current, wanted: digest },
    },
  );
}

async function putExact(client: RegistryClient, repository: string, digest: Digest, bytes: Buffer, target: string) {
  const stored = await client.putManifest(repository, digest, bytes, OCI_MANIFEST);
  if (stored !== digest) {
    throw new KilnError('KILN_REGISTRY_HTTP', `${target} stored manifest ${digest} as ${stored}`, {
      hint: 'the registry rewrote the manifest bytes; Kiln needs a registry that keeps manifests byte for byte',
    });
  }
}
