// The client against a real docker-registry 2.8 (no auth): blobs, mounts, manifests with subject, tags, deletes.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Digest, sha256Digest } from '../../../src/core/digest.js';
import { isKilnError } from '../../../src/core/errors.js';
import { canonicalJson } from '../../../src/core/json.js';
import { artifactManifest, EMPTY_DESCRIPTOR, EMPTY_JSON, evidenceManifest } from '../../../src/registry/manifest.js';
import { createRegistryClient } from '../../../src/registry/remote/client.js';
import type { RegistryClient } from '../../../src/registry/remote/types.js';
import { OCI_MANIFEST } from '../../../src/registry/types.js';
import { loadOciSchemas, type SchemaCheck } from '../../helpers/oci.js';
import { type FaultProxy, startFaultProxy, startRegistry, type TestRegistry } from '../../helpers/registry.js';
import { tempDir } from '../../helpers/tmp.js';

let registry: TestRegistry;
let proxy: FaultProxy;
let client: RegistryClient;
let checkManifest: SchemaCheck;

beforeAll(async () => {
  registry = await startRegistry();
  proxy = await startFaultProxy(registry);
  // Small chunks so a 200 KiB file goes up in several PATCHes; the proxy only watches here.
  client = createRegistryClient({ registry: proxy.host, chunkSize: 64 * 1024 });
  checkManifest = (await loadOciSchemas()).manifest;
});

afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
});

/** Requests the proxy saw since `from`, as `METHOD path` with query values shortened. */
function seen(from: number): string[] {
  return proxy.requests
    .slice(from)
    .map((r) =>
      r
        .replace(/ \S+$/, '')
        .replace(/\?.*$/, (q) => (q.includes('digest=') ? '?…digest' : q.includes('mount=') ? '?mount' : '')),
    );
}

/** A minimal artifact manifest over the layer `layerText` (its blobs: the empty config and that layer). */
function manifestOf(layerText: string, title: string): Buffer {
  const { digest, size } = blobOf(layerText);
  return Buffer.from(canonicalJson(artifactManifest({ layer: { mediaType: 'text/plain', digest, size }, title })));
}

function blobOf(text: string | Buffer): { digest: Digest; size: number; source: Uint8Array } {
  const bytes = Buffer.from(text);
  return { digest: sha256Digest(bytes), size: bytes.length, source: bytes };
}

describe('blobs', () => {
  it('uploads a small blob with POST then PUT ?digest and reads it back verified', async () => {
    const blob = blobOf('hello kiln\n');
    const from = proxy.requests.length;
    await client.putBlob('team/app', blob);
    expect(seen(from)).toEqual([
      `HEAD /v2/team/app/blobs/${blob.digest}`,
      'POST /v2/team/app/blobs/uploads/',
      // docker-registry's Location already has `?_state=…`; the digest is appended to it (COMPONENTS.md).
      expect.stringMatching(/^PUT \/v2\/team\/app\/blobs\/uploads\/[0-9a-f-]{36}\?…digest$/),
    ]);
    expect(await client.hasBlob('team/app', blob.digest)).toBe(true);
    expect((await client.getBlob('team/app', blob.digest)).toString()).toBe('hello kiln\n');
    // Already there: one HEAD, nothing uploaded.
    const again = proxy.requests.length;
    await client.putBlob('team/app', blob);
    expect(seen(again)).toEqual([`HEAD /v2/team/app/blobs/${blob.digest}`]);
  });

  it('streams a file larger than the chunk size as PATCH chunks and closes with PUT', async () => {
    const bytes = Buffer.alloc(200 * 1024 + 17);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >> 8)) & 0xff;
    const file = join(tempDir(), 'big.bin');
    writeFileSync(file, bytes);
    const digest = sha256Digest(bytes);
    const from = proxy.requests.length;
    await client.putBlob('team/app', { digest, size: bytes.length, source: file });
    const methods = seen(from).map((r) => r.split(' ')[0]);
    // 200 KiB + 17 bytes in 64 KiB chunks: 4 PATCHes (64+64+64+8 KiB+17).
    expect(methods).toEqual(['HEAD', 'POST', 'PATCH', 'PATCH', 'PATCH', 'PATCH', 'PUT']);
    expect((await client.getBlob('team/app', digest)).equals(bytes)).toBe(true);
  });

  it('mounts a blob from another repository (201) and falls back to an upload when the source lacks it (202)', async () => {
    const blob = blobOf('mount me');
    await client.putBlob('team/source', blob);
    const from = proxy.requests.length;
    await client.putBlob('team/target', blob, { mountFrom: 'team/source' });
    expect(seen(from)).toEqual([
      `HEAD /v2/team/target/blobs/${blob.digest}`,
      'POST /v2/team/target/blobs/uploads/?mount',
    ]);
    expect(await client.hasBlob('team/target', blob.digest)).toBe(true);

    const orphan = blobOf('not in the mount source');
    const next = proxy.requests.length;
    await client.putBlob('team/target', orphan, { mountFrom: 'team/source' });
    expect(seen(next).map((r) => r.split(' ')[0])).toEqual(['HEAD', 'POST', 'PUT']);
    expect((await client.getBlob('team/target', orphan.digest)).toString()).toBe('not in the mount source');
  });

  it('checks the digest of the content before sending anything', async () => {
    const from = proxy.requests.length;
    const wrong = { ...blobOf('actual content'), digest: sha256Digest('claimed content') };
    const err = await client.putBlob('team/app', wrong).catch((e: unknown) => e);
    expect(isKilnError(err, 'KILN_IO')).toBe(true);
    expect((err as Error).message).toMatch(
      /blob bytes hold sha256:[0-9a-f]{64} \(14 bytes\), not the expected sha256:.*nothing was sent/,
    );
    expect(seen(from).map((r) => r.split(' ')[0])).toEqual(['HEAD']);
  });

  it('names the missing blob on a 404', async () => {
    const missing = sha256Digest('never pushed');
    const err = await client.getBlob('team/app', missing).catch((e: unknown) => e);
    expect(isKilnError(err, 'KILN_NOT_FOUND')).toBe(true);
    expect((err as Error).message).toBe(
      `blob ${missing} is not in repository team/app on registry ${proxy.host} (404 Not Found — registry says BLOB_UNKNOWN: blob unknown to registry)`,
    );
    expect(await client.hasBlob('team/app', missing)).toBe(false);
  });
});

describe('manifests, tags and deletes', () => {
  it('pushes an artifact and an evidence manifest with subject byte for byte; skopeo sees the same digests', async () => {
    const layer = blobOf('artifact payload');
    const evidence = blobOf('{"sbom":true}');
    for (const b of [blobOf(EMPTY_JSON), layer, evidence]) await client.putBlob('team/app', b);
    const artifact = artifactManifest({
      layer: { mediaType: 'application/octet-stream', digest: layer.digest, size: layer.size },
      title: 'app.bin',
    });
    const artifactBytes = Buffer.from(canonicalJson(artifact));
    expect(checkManifest(artifact)).toEqual([]);
    const artifactDigest = await client.putManifest('team/app', 'v1', artifactBytes, OCI_MANIFEST);
    expect(artifactDigest).toBe(sha256Digest(artifactBytes));

    const sbom = evidenceManifest({
      subject: { mediaType: OCI_MANIFEST, digest: artifactDigest, size: artifactBytes.length },
      layer: { mediaType: 'application/vnd.cyclonedx+json', digest: evidence.digest, size: evidence.size },
      title: 'sbom.cdx.json',
      artifactType: 'application/vnd.cyclonedx+json',
    });
    expect(checkManifest(sbom)).toEqual([]);
    const sbomBytes = Buffer.from(canonicalJson(sbom));
    const sbomDigest = sha256Digest(sbomBytes);
    expect(await client.putManifest('team/app', sbomDigest, sbomBytes, OCI_MANIFEST)).toBe(sbomDigest);

    const fetched = await client.getManifest('team/app', sbomDigest);
    expect(fetched?.bytes.equals(sbomBytes)).toBe(true);
    expect(fetched?.mediaType).toBe(OCI_MANIFEST);
    expect(JSON.parse(fetched?.bytes.toString() ?? '{}')).toMatchObject({
      artifactType: 'application/vnd.cyclonedx+json',
      subject: { digest: artifactDigest },
    });
    expect(await client.resolve('team/app', 'v1')).toBe(artifactDigest);
    expect((await client.getManifest('team/app', 'v1'))?.digest).toBe(artifactDigest);
    expect(EMPTY_DESCRIPTOR.digest).toBe(sha256Digest(EMPTY_JSON));

    // An independent client: skopeo reads the raw manifest straight from the registry (not through the proxy).
    for (const [ref, bytes] of [
      [`@${sbomDigest}`, sbomBytes],
      [':v1', artifactBytes],
    ] as const) {
      const raw = execFileSync('skopeo', [
        'inspect',
        '--raw',
        '--tls-verify=false',
        `docker://${registry.host}/team/app${ref}`,
      ]);
      expect(createHash('sha256').update(raw).digest('hex')).toBe(sha256Digest(bytes).slice(7));
    }
    // distribution 2.8 has no referrers API: the client says so with undefined (the caller uses sha256-<hex> tags).
    expect(await client.referrersApi('team/app', artifactDigest)).toBeUndefined();
    expect(await client.referrersApi('team/app', artifactDigest, 'application/vnd.cyclonedx+json')).toBeUndefined();
  });

  it('lists the tags of a repository, and none for a repository that does not exist', async () => {
    const bytes = manifestOf('x', 'x');
    await client.putBlob('team/tags', blobOf(EMPTY_JSON));
    await client.putBlob('team/tags', blobOf('x'));
    const tags = ['a1', 'b2', 'c3', 'd4', 'e5'];
    for (const tag of tags) await client.putManifest('team/tags', tag, bytes, OCI_MANIFEST);
    // distribution 2.8 ignores `n` (tag paging came with 3.0) and lists in storage order: compare as sets.
    expect((await client.listTags('team/tags')).sort()).toEqual(tags);
    expect(await client.listTags('team/no-such-repo')).toEqual([]);
  });

  it('deletes a manifest by digest; it is gone afterwards and deleting again is not an error', async () => {
    const bytes = manifestOf('x', 'gone');
    await client.putBlob('team/del', blobOf(EMPTY_JSON));
    await client.putBlob('team/del', blobOf('x'));
    const digest = await client.putManifest('team/del', 'doomed', bytes, OCI_MANIFEST);
    expect(await client.deleteManifest('team/del', digest)).toBe(true);
    expect(await client.getManifest('team/del', digest)).toBeUndefined();
    expect(await client.resolve('team/del', 'doomed')).toBeUndefined();
    expect(await client.deleteManifest('team/del', digest)).toBe(true);
  });

  it('reports a manifest whose blobs are missing with the registry error code', async () => {
    const bytes = manifestOf('never uploaded layer', 'x');
    const err = await client.putManifest('team/missing', 'v1', bytes, OCI_MANIFEST).catch((e: unknown) => e);
    expect(isKilnError(err, 'KILN_REGISTRY_HTTP')).toBe(true);
    // distribution answers 400 MANIFEST_BLOB_UNKNOWN (docs/spec/api.md, "Put Manifest" errors).
    expect((err as Error).message).toMatch(
      /^registry 127\.0\.0\.1:\d+ refused push of manifest v1 in team\/missing: 400 Bad Request — registry says MANIFEST_BLOB_UNKNOWN: blob unknown to registry$/,
    );
    expect(await client.resolve('team/missing', 'v1')).toBeUndefined();
  });
});
