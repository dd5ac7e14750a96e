import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isKilnError } from '../../../src/core/errors.js';
import type { OciLayout } from '../../../src/registry/index.js';
import {
  ANNOTATION_REF_NAME,
  blobPath,
  EMPTY_DESCRIPTOR,
  KILN_ARTIFACT_TYPE,
  OCI_INDEX,
  OCI_MANIFEST,
  openOciLayout,
} from '../../../src/registry/index.js';
import type { SchemaCheck } from '../../helpers/oci.js';
import { cleanup, defined, listTree, loadOciSchemas, tempDir } from '../../helpers/oci.js';

const SBOM = 'application/vnd.cyclonedx+json';
const PROV = 'application/vnd.in-toto+json';
const ANN = {
  'org.opencontainers.image.source': 'https://example.test/app.git',
  'org.opencontainers.image.revision': '0123456789abcdef0123456789abcdef01234567',
  'org.opencontainers.image.created': '2024-01-02T03:04:05Z',
};

let schemas: Record<'manifest' | 'index' | 'layout' | 'descriptor', SchemaCheck>;
const dirs: string[] = [];
beforeAll(async () => {
  schemas = await loadOciSchemas();
});
afterEach(async () => {
  for (const d of dirs.splice(0)) await cleanup(d);
});

async function fixture(): Promise<{ dir: string; layout: OciLayout; artifact: string }> {
  const dir = await tempDir();
  dirs.push(dir);
  const artifact = path.join(dir, 'app.tar');
  await writeFile(artifact, Buffer.from('pretend this is a deterministic tarball\n'.repeat(1000)));
  return { dir, artifact, layout: await openOciLayout(path.join(dir, 'oci')) };
}

async function publish(layout: OciLayout, artifact: string) {
  const art = await layout.pushArtifact({
    file: artifact,
    mediaType: 'application/vnd.kiln.tar',
    title: 'app.tar',
    annotations: ANN,
    refName: 'app/v1',
  });
  const sbom = await layout.attach({
    subject: art,
    artifactType: SBOM,
    mediaType: SBOM,
    title: 'sbom.cdx.json',
    bytes: Buffer.from('{"bomFormat":"CycloneDX"}'),
  });
  const prov = await layout.attach({
    subject: art,
    artifactType: PROV,
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    title: 'provenance.sigstore.json',
    bytes: Buffer.from('{"mediaType":"bundle"}'),
    annotations: { 'org.opencontainers.image.created': ANN['org.opencontainers.image.created'] },
  });
  return { art, sbom, prov };
}

describe('OCI layout publishing', () => {
  it('writes a layout, index and manifests that the official OCI schemas accept', async () => {
    const { dir, layout, artifact } = await fixture();
    const { art, sbom, prov } = await publish(layout, artifact);
    const root = path.join(dir, 'oci');

    expect(JSON.parse(await readFile(path.join(root, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(schemas.layout(JSON.parse(await readFile(path.join(root, 'oci-layout'), 'utf8')))).toEqual([]);
    const index = JSON.parse(await readFile(path.join(root, 'index.json'), 'utf8'));
    expect(schemas.index(index)).toEqual([]);
    expect(index.mediaType).toBe(OCI_INDEX);
    expect(index.manifests.map((m: { digest: string }) => m.digest).sort()).toEqual(
      [art.digest, sbom.digest, prov.digest].sort(),
    );
    for (const entry of index.manifests) {
      const manifest = JSON.parse((await layout.readBlob(entry.digest)).toString('utf8'));
      expect(schemas.manifest(manifest)).toEqual([]);
      expect(manifest.mediaType).toBe(OCI_MANIFEST);
    }

    const m = JSON.parse((await layout.readBlob(art.digest)).toString('utf8'));
    expect(m.artifactType).toBe(KILN_ARTIFACT_TYPE);
    expect(art.artifactType).toBe(KILN_ARTIFACT_TYPE);
    expect(m.config).toEqual(EMPTY_DESCRIPTOR);
    expect(Object.keys(m.annotations)).toEqual(Object.keys(ANN).sort());
    expect(m.layers).toHaveLength(1);
    expect(m.layers[0].annotations).toEqual({ 'org.opencontainers.image.title': 'app.tar' });
    const e = JSON.parse((await layout.readBlob(sbom.digest)).toString('utf8'));
    expect(e.subject).toEqual({ mediaType: OCI_MANIFEST, digest: art.digest, size: art.size });
  });

  it('stores every blob under its sha256, including the empty config', async () => {
    const { dir, layout, artifact } = await fixture();
    await publish(layout, artifact);
    const root = path.join(dir, 'oci');
    const files = await listTree(root);
    expect(files.filter((f) => !f.startsWith('blobs/'))).toEqual(['index.json', 'oci-layout']);
    const blobs = files.filter((f) => f.startsWith('blobs/'));
    expect(blobs.length).toBe(7); // artifact, empty config, 2 evidence layers, 3 manifests
    for (const f of blobs) {
      const hex = createHash('sha256')
        .update(await readFile(path.join(root, f)))
        .digest('hex');
      expect(f).toBe(`blobs/sha256/${hex}`);
    }
    expect(await readFile(blobPath(root, EMPTY_DESCRIPTOR.digest), 'utf8')).toBe('{}');
    const art = defined(await layout.resolve('app/v1'), 'ref app/v1');
    const layer = JSON.parse((await layout.readBlob(art.digest)).toString()).layers[0];
    expect(await layout.readBlob(layer.digest)).toEqual(await readFile(artifact));
  });

  it('finds evidence through referrers, verified and filterable by artifactType', async () => {
    const { layout, artifact } = await fixture();
    const { art, sbom, prov } = await publish(layout, artifact);
    const refs = await layout.referrers(art.digest);
    expect(refs.map((r) => r.digest).sort()).toEqual([sbom.digest, prov.digest].sort());
    expect(refs.find((r) => r.digest === prov.digest)?.annotations).toEqual({
      'org.opencontainers.image.created': ANN['org.opencontainers.image.created'],
    });
    for (const r of refs) expect(schemas.descriptor(r)).toEqual([]);
    expect((await layout.referrers(art.digest, { artifactType: SBOM })).map((r) => r.digest)).toEqual([sbom.digest]);
    expect(await layout.referrers(sbom.digest)).toEqual([]);
  });

  it('attaches several pieces of evidence with one index update, the same manifests as one by one', async () => {
    const { layout, artifact } = await fixture();
    const { art, sbom, prov } = await publish(layout, artifact);
    const again = await fixture();
    const art2 = await again.layout.pushArtifact({
      file: again.artifact,
      mediaType: 'application/vnd.kiln.tar',
      title: 'app.tar',
      annotations: ANN,
      refName: 'app/v1',
    });
    const before = (await again.layout.index()).manifests.length;
    const both = await again.layout.attachAll([
      {
        subject: art2,
        artifactType: SBOM,
        mediaType: SBOM,
        title: 'sbom.cdx.json',
        bytes: Buffer.from('{"bomFormat":"CycloneDX"}'),
      },
      {
        subject: art2,
        artifactType: PROV,
        mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        title: 'provenance.sigstore.json',
        bytes: Buffer.from('{"mediaType":"bundle"}'),
        annotations: { 'org.opencontainers.image.created': ANN['org.opencontainers.image.created'] },
      },
    ]);
    expect(both.map((d) => d.digest)).toEqual([sbom.digest, prov.digest]);
    expect(art2.digest).toBe(art.digest);
    expect((await again.layout.index()).manifests.length).toBe(before + 2);
    expect((await again.layout.referrers(art2.digest)).map((r) => r.digest).sort()).toEqual(
      [sbom.digest, prov.digest].sort(),
    );
  });

  it('gives identical manifest digests for identical inputs, in a fresh layout or the same one', async () => {
    const a = await fixture();
    const b = await fixture();
    const first = await publish(a.layout, a.artifact);
    const second = await publish(b.layout, b.artifact);
    const again = await publish(a.layout, a.artifact);
    expect(second).toEqual(first);
    expect(again).toEqual(first);
    expect(await a.layout.index()).toEqual(await b.layout.index());
    expect((await a.layout.index()).manifests).toHaveLength(3);
  });

  it('moves a ref name, keeping the old manifest untagged', async () => {
    const { dir, layout, artifact } = await fixture();
    const v1 = await layout.pushArtifact({
      file: artifact,
      mediaType: 'application/x-tar',
      title: 'a',
      refName: 'latest',
    });
    await writeFile(artifact, 'a different build');
    const v2 = await layout.pushArtifact({
      file: artifact,
      mediaType: 'application/x-tar',
      title: 'a',
      refName: 'latest',
    });
    expect((await layout.resolve('latest'))?.digest).toBe(v2.digest);
    const entries = (await layout.index()).manifests;
    expect(entries.map((e) => [e.digest, e.annotations?.[ANNOTATION_REF_NAME]])).toEqual(
      [
        [v1.digest, undefined],
        [v2.digest, 'latest'],
      ].sort((x, y) => ((x[0] as string) < (y[0] as string) ? -1 : 1)),
    );
    expect(schemas.index(JSON.parse(await readFile(path.join(dir, 'oci', 'index.json'), 'utf8')))).toEqual([]);
    expect(await layout.resolve('nope')).toBeUndefined();
  });

  it('readBlob refuses a blob corrupted on disk, naming it', async () => {
    const { dir, layout, artifact } = await fixture();
    const { art } = await publish(layout, artifact);
    await writeFile(blobPath(path.join(dir, 'oci'), art.digest), '{"schemaVersion":2}');
    const err = await layout.readBlob(art.digest).catch((e: unknown) => e);
    expect(isKilnError(err, 'KILN_OCI_LAYOUT')).toBe(true);
    expect((err as Error).message).toContain(art.digest);
    // referrers reads every manifest in the index, so the corruption is loud there too.
    await expect(layout.referrers(art.digest)).rejects.toMatchObject({ code: 'KILN_OCI_LAYOUT' });
    const missing = `sha256:${'0'.repeat(64)}` as const;
    expect(isKilnError(await layout.readBlob(missing).catch((e: unknown) => e), 'KILN_NOT_FOUND')).toBe(true);
  });

  it('referrers refuses a corrupted evidence manifest instead of trusting it', async () => {
    const { dir, layout, artifact } = await fixture();
    const { art, sbom } = await publish(layout, artifact);
    await writeFile(blobPath(path.join(dir, 'oci'), sbom.digest), 'garbage');
    const err = await layout.referrers(art.digest).catch((e: unknown) => e);
    expect(isKilnError(err, 'KILN_OCI_LAYOUT')).toBe(true);
    expect((err as Error).message).toContain(sbom.digest);
  });

  it('replaces a pre-existing blob whose content does not match its name', async () => {
    const { dir, layout, artifact } = await fixture();
    const root = path.join(dir, 'oci');
    const expected = `sha256:${createHash('sha256')
      .update(await readFile(artifact))
      .digest('hex')}` as const;
    await writeFile(blobPath(root, expected), 'planted');
    const d = await layout.putBlobFile(artifact, 'application/x-tar');
    expect(d.digest).toBe(expected);
    expect(await layout.readBlob(expected)).toEqual(await readFile(artifact));
    await writeFile(blobPath(root, EMPTY_DESCRIPTOR.digest), '[]');
    await layout.putBlobBytes(Buffer.from('{}'), EMPTY_DESCRIPTOR.mediaType);
    expect(await readFile(blobPath(root, EMPTY_DESCRIPTOR.digest), 'utf8')).toBe('{}');
  });

  it('rejects bad inputs before writing anything', async () => {
    const { layout, artifact } = await fixture();
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: unknown) => (isKilnError(e) ? e.code : String(e)),
      );
    const base = { file: artifact, mediaType: 'application/x-tar', title: 't' };
    expect(await code(layout.pushArtifact({ ...base, refName: 'bad ref' }))).toBe('KILN_USAGE');
    expect(await code(layout.pushArtifact({ ...base, mediaType: 'not a media type' }))).toBe('KILN_USAGE');
    expect(await code(layout.pushArtifact({ ...base, file: `${artifact}.missing` }))).toBe('KILN_NOT_FOUND');
    const art = await layout.pushArtifact(base);
    const ev = { subject: art, artifactType: SBOM, mediaType: SBOM, title: 's' };
    expect(await code(layout.attach(ev))).toBe('KILN_USAGE');
    expect(await code(layout.attach({ ...ev, bytes: Buffer.from('x'), file: artifact }))).toBe('KILN_USAGE');
    const ghost = { ...art, digest: `sha256:${'1'.repeat(64)}` as const };
    expect(await code(layout.attach({ ...ev, subject: ghost, bytes: Buffer.from('x') }))).toBe('KILN_NOT_FOUND');
    expect((await layout.index()).manifests).toHaveLength(1);
  });
});
