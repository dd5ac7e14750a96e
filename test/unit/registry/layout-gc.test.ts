import { readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isKilnError } from '../../../src/core/errors.js';
import { canonicalJson } from '../../../src/core/json.js';
import {
  blobPath,
  type Descriptor,
  INDEX_LOCK_NAME,
  OCI_INDEX,
  type OciLayout,
  openOciLayout,
  readLayoutManifests,
  referencedBlobs,
  removeManifests,
  sweepLayoutBlobs,
} from '../../../src/registry/index.js';
import { loadOciSchemas, type SchemaCheck } from '../../helpers/oci.js';
import { tempDir } from '../../helpers/tmp.js';

const HOUR = 3_600_000;
let schemas: Record<'manifest' | 'index' | 'layout' | 'descriptor', SchemaCheck>;
beforeAll(async () => {
  schemas = await loadOciSchemas();
});

/** Publishes artifact `name` (its own bytes) with an SBOM and a signature of the SBOM hanging off it. */
async function publish(layout: OciLayout, dir: string, name: string) {
  const file = path.join(dir, `${name}.tgz`);
  await writeFile(file, `the ${name} artifact\n`.repeat(100));
  const artifact = await layout.pushArtifact({
    file,
    mediaType: 'application/octet-stream',
    title: `${name}.tgz`,
    refName: `demo/${name}:c1`,
  });
  const sbom = await layout.attach({
    subject: artifact,
    artifactType: 'application/vnd.cyclonedx+json',
    mediaType: 'application/vnd.cyclonedx+json',
    title: `${name}.cdx.json`,
    bytes: Buffer.from(`{"sbom":"${name}"}`),
  });
  const sig = await layout.attach({
    subject: sbom,
    artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    title: 'sig',
    bytes: Buffer.from(`{"sig":"${name}"}`),
  });
  const layerOf = async (d: Descriptor): Promise<string> =>
    JSON.parse((await layout.readBlob(d.digest)).toString()).layers[0].digest;
  const layers = { artifact: await layerOf(artifact), sbom: await layerOf(sbom), sig: await layerOf(sig) };
  return { artifact, sbom, sig, layers };
}

async function fixture() {
  const dir = tempDir();
  const oci = path.join(dir, 'oci');
  const layout = await openOciLayout(oci);
  const a = await publish(layout, dir, 'a');
  const b = await publish(layout, dir, 'b');
  return { dir, oci, layout, a, b };
}

const blobNames = async (oci: string) => (await readdir(path.join(oci, 'blobs', 'sha256'))).sort();

/** Every manifest index.json lists is valid, and every blob it (transitively) names exists. */
async function expectValidLayout(oci: string): Promise<Set<string>> {
  const index = JSON.parse(await readFile(path.join(oci, 'index.json'), 'utf8'));
  expect(schemas.index(index)).toEqual([]);
  const { digests, missing } = await referencedBlobs(oci);
  expect(missing).toEqual([]);
  for (const entry of index.manifests as Descriptor[]) {
    expect(schemas.manifest(JSON.parse(await readFile(blobPath(oci, entry.digest), 'utf8')))).toEqual([]);
  }
  for (const digest of digests) await stat(blobPath(oci, digest as `sha256:${string}`));
  return digests;
}

describe('removing manifests from a layout', () => {
  it('lists each manifest once with its ref names and subject', async () => {
    const { oci, a } = await fixture();
    const listed = await readLayoutManifests(oci);
    expect(listed).toHaveLength(6);
    expect(listed.find((m) => m.digest === a.artifact.digest)).toMatchObject({ refNames: ['demo/a:c1'] });
    expect(listed.find((m) => m.digest === a.sig.digest)?.subject).toBe(a.sbom.digest);
    expect(await readLayoutManifests(path.join(oci, 'nowhere'))).toEqual([]);
  });

  it('takes entries out of index.json under its lock and leaves every blob for the sweep', async () => {
    const { oci, a, b } = await fixture();
    const before = await blobNames(oci);
    const removed = await removeManifests(oci, [a.artifact.digest, a.sbom.digest, a.sig.digest]);
    expect(removed.map((e) => e.digest).sort()).toEqual([a.artifact.digest, a.sbom.digest, a.sig.digest].sort());
    const index = JSON.parse(await readFile(path.join(oci, 'index.json'), 'utf8'));
    expect(index.manifests.map((e: Descriptor) => e.digest).sort()).toEqual(
      [b.artifact.digest, b.sbom.digest, b.sig.digest].sort(),
    );
    expect(await blobNames(oci)).toEqual(before); // crash here: a valid layout with unreferenced blobs
    await expectValidLayout(oci);
    expect(await removeManifests(oci, [a.artifact.digest])).toEqual([]); // already gone: nothing written

    // Another process holds the lock: removal waits, and gives up with a clear error.
    await writeFile(
      path.join(oci, INDEX_LOCK_NAME),
      JSON.stringify({ pid: process.pid, host: 'elsewhere', token: 'x', createdAt: Date.now() }),
    );
    const err = await removeManifests(oci, [b.sig.digest], { lock: { timeoutMs: 50 } }).catch((e: unknown) => e);
    expect(isKilnError(err, 'KILN_OCI_LAYOUT') && err.message).toMatch(/timed out after 50 ms waiting for lock/);
  });
});

describe('sweeping blobs', () => {
  it('deletes only blobs nothing listed needs, and only when older than the grace period', async () => {
    const { oci, a, b } = await fixture();
    const before = await blobNames(oci);
    await removeManifests(oci, [a.artifact.digest, a.sbom.digest, a.sig.digest]);
    const fresh = await sweepLayoutBlobs(oci, { now: new Date() });
    expect(fresh.removed).toEqual([]);
    expect(fresh.young).toBeGreaterThan(0); // a's blobs were written just now: a publish might still name them

    const later = await sweepLayoutBlobs(oci, { now: new Date(Date.now() + 2 * HOUR) });
    const referenced = await expectValidLayout(oci);
    const after = await blobNames(oci);
    expect(after.map((n) => `sha256:${n}`).sort()).toEqual([...referenced].sort());
    // Gone: exactly a's three manifests and their three layers. The empty config `{}` stays: b's manifests use it.
    const gone = [a.artifact.digest, a.sbom.digest, a.sig.digest, a.layers.artifact, a.layers.sbom, a.layers.sig];
    expect(later.removed.map((r) => r.digest)).toEqual(gone.sort());
    expect(before.filter((n) => !after.includes(n)).map((n) => `sha256:${n}`)).toEqual(gone.sort());
    expect(after).toContain('44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'); // sha256("{}"), image-spec's empty descriptor
    expect(after).toContain(b.layers.artifact.slice(7));
    expect(later.bytesRemoved).toBe(later.removed.reduce((n, r) => n + r.size, 0));
  });

  it('keeps what an image index lists, removes old temp files, and deletes nothing when a manifest is corrupt', async () => {
    const { oci, layout, a, b } = await fixture();
    // An image index naming a's artifact manifest, listed instead of it: a's blobs stay reachable through it.
    const nested = await layout.putBlobBytes(
      Buffer.from(canonicalJson({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [a.artifact] })),
      OCI_INDEX,
    );
    await removeManifests(oci, [a.artifact.digest, a.sbom.digest, a.sig.digest]);
    const index = JSON.parse(await readFile(path.join(oci, 'index.json'), 'utf8'));
    index.manifests.push(nested);
    await writeFile(path.join(oci, 'index.json'), JSON.stringify(index));
    const tmp = path.join(oci, 'blobs', 'sha256', '.upload.tmp-4242-0badf00d');
    await writeFile(tmp, 'half a blob');
    const old = new Date(Date.now() - 3 * HOUR);
    await utimes(tmp, old, old);
    const swept = await sweepLayoutBlobs(oci, { now: new Date(Date.now() + 2 * HOUR) });
    expect(swept.staleTempFiles).toBe(1);
    // The index keeps a's artifact manifest and layer; its SBOM and signature (no longer listed) go.
    expect(swept.removed.map((r) => r.digest)).toEqual(
      [a.sbom.digest, a.sig.digest, a.layers.sbom, a.layers.sig].sort(),
    );
    await stat(blobPath(oci, a.layers.artifact as `sha256:${string}`));

    // A corrupt manifest: what it names cannot be known, so the sweep refuses before deleting anything.
    await writeFile(blobPath(oci, b.sbom.digest), '{"tampered":true}');
    await writeFile(path.join(oci, 'blobs', 'sha256', 'f'.repeat(64)), 'unreferenced');
    await utimes(path.join(oci, 'blobs', 'sha256', 'f'.repeat(64)), old, old);
    const before = await blobNames(oci);
    const err = await sweepLayoutBlobs(oci, { now: new Date(Date.now() + 2 * HOUR) }).catch((e: unknown) => e);
    expect(isKilnError(err, 'KILN_OCI_LAYOUT') && err.message).toMatch(/is corrupt/);
    expect(await blobNames(oci)).toEqual(before);
  });
});
