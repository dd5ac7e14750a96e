import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isKilnError } from '../../../src/core/errors.js';
import { openOciLayout } from '../../../src/registry/index.js';
import { cleanup, listTree, tempDir } from '../../helpers/oci.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await cleanup(d);
});
async function dir(): Promise<string> {
  const d = await tempDir();
  dirs.push(d);
  return d;
}

async function openError(root: string): Promise<unknown> {
  return openOciLayout(root).then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('openOciLayout', () => {
  it('creates oci-layout, an empty index.json and blobs/sha256, and reopens them unchanged', async () => {
    const root = path.join(await dir(), 'nested', 'oci');
    const layout = await openOciLayout(root);
    expect(await listTree(root)).toEqual(['index.json', 'oci-layout']);
    expect(await layout.index()).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [],
    });
    const before = await readFile(path.join(root, 'index.json'), 'utf8');
    await Promise.all([openOciLayout(root), openOciLayout(root), openOciLayout(root)]);
    expect(await readFile(path.join(root, 'index.json'), 'utf8')).toBe(before);
  });

  it.each([
    ['oci-layout', '{"imageLayoutVersion":"2.0.0"}', 'imageLayoutVersion'],
    ['oci-layout', 'not json', 'not valid JSON'],
    ['index.json', '{"schemaVersion":1,"manifests":{}}', 'schemaVersion'],
    [
      'index.json',
      '{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"md5:1","size":-1}]}',
      'manifests[0].digest',
    ],
    ['index.json', '[]', '(root)'],
  ])('refuses an invalid %s (%s)', async (file, content, mention) => {
    const root = await dir();
    if (file === 'index.json') await writeFile(path.join(root, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(path.join(root, file), content);
    const err = await openError(root);
    expect(isKilnError(err, 'KILN_OCI_LAYOUT')).toBe(true);
    expect((err as Error).message).toContain(mention);
    expect((err as Error).message).toContain(path.join(root, file));
    expect((err as { hint?: string }).hint).toBeTruthy();
  });

  it('reports every index problem, with paths', async () => {
    const root = await dir();
    await mkdir(root, { recursive: true });
    await writeFile(path.join(root, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    const bad = {
      schemaVersion: 2,
      manifests: [{ mediaType: 'a/b', digest: 'sha256:xyz', size: 1.5, annotations: { k: 1 } }],
    };
    await writeFile(path.join(root, 'index.json'), JSON.stringify(bad));
    const err = await openError(root);
    expect((err as { details?: { problems: string[] } }).details?.problems).toEqual([
      'manifests[0].digest: expected sha256:<64 hex>, got "sha256:xyz"',
      'manifests[0].size: expected a non-negative integer, got 1.5',
      'manifests[0].annotations.k: expected a string, got number',
    ]);
  });
});
