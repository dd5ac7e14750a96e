import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OciLayout } from '../../../src/registry/index.js';
import { ANNOTATION_REF_NAME, INDEX_LOCK_NAME, openOciLayout } from '../../../src/registry/index.js';
import type { SchemaCheck } from '../../helpers/oci.js';
import { buildRegistryJs, cleanup, defined, listTree, loadOciSchemas, tempDir } from '../../helpers/oci.js';

const CHILD_SCRIPT = `
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
const [moduleUrl, dir, tag, count, srcDir] = process.argv.slice(2);
const { openOciLayout } = await import(moduleUrl);
const layout = await openOciLayout(dir);
await mkdir(srcDir, { recursive: true });
await Promise.all(Array.from({ length: Number(count) }, async (_, i) => {
  const file = path.join(srcDir, tag + '-' + i + '.bin');
  await writeFile(file, tag + ' artifact ' + i);
  const art = await layout.pushArtifact({ file, mediaType: 'application/octet-stream', title: tag + '-' + i, refName: tag + '/' + i });
  await layout.attach({ subject: art, artifactType: 'application/vnd.example.evidence', mediaType: 'application/json',
    title: 'evidence.json', bytes: Buffer.from(JSON.stringify({ tag, i })) });
}));
`;

let work: string;
let moduleUrl: string;
let schemas: Record<'manifest' | 'index' | 'layout' | 'descriptor', SchemaCheck>;
beforeAll(async () => {
  work = await tempDir();
  const jsDir = path.join(work, 'js');
  moduleUrl = new URL(`file://${await buildRegistryJs(jsDir)}`).href;
  await writeFile(path.join(jsDir, 'child.mjs'), CHILD_SCRIPT);
  schemas = await loadOciSchemas();
});
afterAll(async () => {
  await cleanup(work);
});

function runChild(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(work, 'js', 'child.mjs'), ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

async function pushMany(layout: OciLayout, tag: string, count: number, srcDir: string): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const file = path.join(srcDir, `${tag}-${i}.bin`);
      await writeFile(file, `${tag} artifact ${i}`);
      const art = await layout.pushArtifact({
        file,
        mediaType: 'application/octet-stream',
        title: `${tag}-${i}`,
        refName: `${tag}/${i}`,
      });
      await layout.attach({
        subject: art,
        artifactType: 'application/vnd.example.evidence',
        mediaType: 'application/json',
        title: 'evidence.json',
        bytes: Buffer.from(JSON.stringify({ tag, i })),
      });
    }),
  );
}

describe('concurrent publishing into one layout', () => {
  it('loses no index update across processes and in-process instances, and leaves no temp or lock files', async () => {
    const dir = path.join(work, 'shared-oci');
    const src = path.join(work, 'src');
    const N = 12;
    await mkdir(src, { recursive: true });
    const local = await Promise.all([openOciLayout(dir), openOciLayout(dir)]);
    const results = await Promise.all([
      runChild([moduleUrl, dir, 'p1', String(N), src]),
      runChild([moduleUrl, dir, 'p2', String(N), src]),
      runChild([moduleUrl, dir, 'p3', String(N), src]),
      ...local.map(async (layout, k) => {
        await pushMany(layout, `local${k}`, N, src);
        return { code: 0, stderr: '' };
      }),
    ]);
    for (const r of results) expect(r).toEqual({ code: 0, stderr: '' });

    const layout = await openOciLayout(dir);
    const index = await layout.index();
    const tags = ['p1', 'p2', 'p3', 'local0', 'local1'];
    expect(index.manifests).toHaveLength(tags.length * N * 2);
    for (const tag of tags) {
      for (let i = 0; i < N; i++) {
        const art = defined(await layout.resolve(`${tag}/${i}`), `ref ${tag}/${i}`);
        const refs = await layout.referrers(art.digest);
        expect(refs).toHaveLength(1);
        const evidence = JSON.parse((await layout.readBlob(defined(refs[0], 'referrer').digest)).toString());
        expect(evidence.subject.digest).toBe(art.digest);
      }
    }
    const sorted = [...index.manifests].sort((a, b) =>
      a.digest === b.digest
        ? (a.annotations?.[ANNOTATION_REF_NAME] ?? '').localeCompare(b.annotations?.[ANNOTATION_REF_NAME] ?? '')
        : a.digest < b.digest
          ? -1
          : 1,
    );
    expect(index.manifests).toEqual(sorted);
    expect(schemas.index(JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')))).toEqual([]);
    const files = await listTree(dir);
    expect(files.filter((f) => !/^blobs\/sha256\/[0-9a-f]{64}$/.test(f))).toEqual(['index.json', 'oci-layout']);
    expect(files).not.toContain(INDEX_LOCK_NAME);
  });
});
