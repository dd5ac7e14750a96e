// The referrers fallback tag under concurrent writers, and gc's registry deletion against a real docker-registry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Digest, sha256Digest } from '../../../src/core/digest.js';
import { canonicalJson } from '../../../src/core/json.js';
import { artifactManifest, EMPTY_JSON, evidenceManifest } from '../../../src/registry/manifest.js';
import { listReferrers, recordReferrers, referrerDescriptor } from '../../../src/registry/referrers.js';
import { createRegistryClient } from '../../../src/registry/remote/client.js';
import type { RegistryClient } from '../../../src/registry/remote/types.js';
import { type Descriptor, OCI_MANIFEST } from '../../../src/registry/types.js';
import { deleteRegistryCopies } from '../../../src/retention/registry.js';
import type { RetentionPlan } from '../../../src/retention/types.js';
import { startRegistry, type TestRegistry } from '../../helpers/registry.js';

let registry: TestRegistry;
let client: RegistryClient;
const repository = 'team/refs';

beforeAll(async () => {
  registry = await startRegistry();
  client = createRegistryClient({ registry: registry.host });
  const empty = Buffer.from(EMPTY_JSON);
  await client.putBlob(repository, { digest: sha256Digest(empty), size: empty.length, source: empty });
});

afterAll(async () => {
  await registry?.stop();
});

async function putBlob(text: string): Promise<Descriptor> {
  const bytes = Buffer.from(text);
  await client.putBlob(repository, { digest: sha256Digest(bytes), size: bytes.length, source: bytes });
  return { mediaType: 'application/octet-stream', digest: sha256Digest(bytes), size: bytes.length };
}

async function putArtifact(text: string): Promise<{ digest: Digest; descriptor: Descriptor }> {
  const layer = await putBlob(text);
  const bytes = Buffer.from(canonicalJson(artifactManifest({ layer, title: `${text}.tgz` })));
  const digest = await client.putManifest(repository, sha256Digest(bytes), bytes, OCI_MANIFEST);
  return { digest, descriptor: { mediaType: OCI_MANIFEST, digest, size: bytes.length } };
}

async function putEvidence(subject: Descriptor, text: string): Promise<Descriptor> {
  const layer = await putBlob(text);
  const manifest = evidenceManifest({ subject, layer, title: `${text}.json`, artifactType: 'application/json' });
  const bytes = Buffer.from(canonicalJson(manifest));
  await client.putManifest(repository, sha256Digest(bytes), bytes, OCI_MANIFEST);
  return referrerDescriptor(bytes, manifest);
}

describe('the sha256-<hex> referrers index', () => {
  it('merges what a later push adds into the index an earlier one wrote, and rewrites nothing already there', async () => {
    // Two writers in turn. At the same moment they can still lose an entry: registries have no conditional PUT,
    // and recordReferrers only narrows that window by reading back (see its comment).
    const artifact = await putArtifact('merged');
    const a = await putEvidence(artifact.descriptor, 'evidence-a');
    const b = await putEvidence(artifact.descriptor, 'evidence-b');
    await recordReferrers(client, repository, artifact.digest, [a]);
    await recordReferrers(client, repository, artifact.digest, [b]);
    const tag = `sha256-${artifact.digest.slice(7)}`;
    const before = await client.resolve(repository, tag);
    await recordReferrers(client, repository, artifact.digest, [a]); // already listed: no new index
    expect(await client.resolve(repository, tag)).toBe(before);
    const { mode, referrers } = await listReferrers(client, repository, artifact.digest);
    expect(mode).toBe('tag');
    expect(referrers.map((r) => r.digest).sort()).toEqual([a.digest, b.digest].sort());
  });
});

describe('gc in a registry', () => {
  const planFor = (going: Digest): RetentionPlan =>
    ({
      builds: [{ artifacts: [{ name: 'app', manifest: going, keep: false }] }],
      registry: {
        copies: [{ manifest: going, environment: 'staging', ref: `${registry.host}/${repository}@${going}` }],
        publishTo: null,
      },
    }) as unknown as RetentionPlan;

  it('deletes only referrers whose manifest names the going artifact, never a kept one listed in its index', async () => {
    const going = await putArtifact('going');
    const kept = await putArtifact('kept');
    const own = await putEvidence(going.descriptor, 'going-evidence');
    // A forged (or mistaken) entry: the kept artifact listed among the going one's referrers.
    await recordReferrers(client, repository, going.digest, [own, { ...kept.descriptor, artifactType: 'x/y' }]);
    const result = await deleteRegistryCopies(planFor(going.digest), async () => client);
    expect(result.deleted).toEqual([`${registry.host}/${repository}@${going.digest}`]);
    expect(await client.resolve(repository, going.digest)).toBeUndefined();
    expect(await client.resolve(repository, own.digest)).toBeUndefined();
    expect(await client.resolve(repository, kept.digest)).toBe(kept.digest);
  });

  it('leaves what an environment tag points at, whatever the store says', async () => {
    const running = await putArtifact('running');
    const bytes = (await client.getManifest(repository, running.digest))?.bytes ?? Buffer.alloc(0);
    await client.putManifest(repository, 'staging', bytes, OCI_MANIFEST);
    const result = await deleteRegistryCopies(planFor(running.digest), async () => client, {
      staging: { repository: `${registry.host}/${repository}` },
    });
    expect(result.deleted).toEqual([]);
    expect(result.left).toEqual([
      { ref: `${registry.host}/${repository}@${running.digest}`, why: 'an environment tag points at it' },
    ]);
    expect(await client.resolve(repository, 'staging')).toBe(running.digest);
  });
});

describe('reading blobs by their declared size', () => {
  it('refuses a body longer than the size the manifest declared, without buffering the rest', async () => {
    const blob = await putBlob('twelve bytes');
    expect((await client.getBlob(repository, blob.digest, blob.size)).toString()).toBe('twelve bytes');
    await expect(client.getBlob(repository, blob.digest, 5)).rejects.toMatchObject({
      code: 'KILN_REGISTRY_HTTP',
      message: expect.stringContaining('sent more than 5 bytes'),
    });
  });
});
