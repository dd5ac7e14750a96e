import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type BlobStore,
  captureOutputs,
  LocalCas,
  loadOutputTree,
  type OutputTree,
  parseOutputTree,
  restoreOutputs,
  treeDigest,
} from '../../../src/cache/index.js';
import { type Digest, sha256Digest } from '../../../src/core/digest.js';
import { tempDir } from '../../helpers/tmp.js';

/** Every path under `dir` with what makes it itself: kind, content hash, executable bit, link target. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(dir, { recursive: true })).sort()) {
    const path = join(dir, name);
    const st = await lstat(path);
    if (st.isSymbolicLink()) out.push(`${name} -> ${await readlink(path)}`);
    else if (st.isDirectory()) out.push(`${name}/`);
    else {
      const hash = createHash('sha256')
        .update(await readFile(path))
        .digest('hex');
      out.push(`${name} ${hash.slice(0, 12)} ${st.size}${st.mode & 0o111 ? ' x' : ''}`);
    }
  }
  return out;
}

/** A step directory with files, an executable, an empty dir, symlinks, duplicate content and a large file. */
async function stepDir(): Promise<string> {
  const root = tempDir('kiln-tree-');
  const w = async (rel: string, data: string | Buffer) => {
    await mkdir(join(root, rel, '..'), { recursive: true });
    await writeFile(join(root, rel), data);
  };
  await w('dist/index.js', 'export const x = 1;\n');
  await w('dist/lib/a.js', 'export const x = 1;\n');
  await w('dist/lib/b.js', 'b\n');
  await w('dist/bin/cli', '#!/bin/sh\necho hi\n');
  await chmod(join(root, 'dist/bin/cli'), 0o755);
  await w('dist/big.bin', Buffer.alloc(6 << 20, 'big'));
  await mkdir(join(root, 'dist/empty/deeper'), { recursive: true });
  await symlink('index.js', join(root, 'dist/link'));
  await symlink('../index.js', join(root, 'dist/lib/up'));
  await symlink('missing-yet', join(root, 'dist/dangling'));
  await w('out/app.txt', 'app\n');
  await w('src/not-an-output.js', 'ignored\n');
  return root;
}

const OUTPUTS = ['dist', 'out/app.txt', './dist/'];

describe('capture and restore of output trees', () => {
  it('reproduces the outputs bit for bit in a fresh location', async () => {
    const root = await stepDir();
    const cas = new LocalCas({ dir: tempDir('kiln-tree-cas-') });
    const tree = await captureOutputs(root, OUTPUTS, cas);
    expect(Object.isFrozen(tree) && Object.isFrozen(tree.entries)).toBe(true);
    const paths = tree.entries.map((e) => e.path);
    expect(paths).toEqual([...paths].sort());
    expect(paths).not.toContain('src/not-an-output.js');
    expect(tree.entries.find((e) => e.path === 'dist/bin/cli')).toMatchObject({ kind: 'file', executable: true });
    expect(tree.entries.find((e) => e.path === 'dist/link')).toEqual({
      kind: 'symlink',
      path: 'dist/link',
      target: 'index.js',
    });
    // The tree itself is a blob, found again by its digest.
    expect(await loadOutputTree(treeDigest(tree), cas)).toEqual(tree);

    const dest = tempDir('kiln-tree-dest-');
    const result = await restoreOutputs(tree, dest, cas);
    expect(result).toEqual({ files: 6, bytes: tree.entries.reduce((n, e) => n + (e.kind === 'file' ? e.size : 0), 0) });
    await rm(join(root, 'src'), { recursive: true });
    expect(await snapshot(dest)).toEqual(await snapshot(root));
    expect(await snapshot(dest)).toContain('dist/empty/deeper/');
  });

  it('replaces what is already at the output paths', async () => {
    const root = await stepDir();
    const cas = new LocalCas({ dir: tempDir('kiln-tree-cas-') });
    const tree = await captureOutputs(root, ['dist', 'out/app.txt'], cas);
    const dest = tempDir('kiln-tree-dest-');
    await mkdir(join(dest, 'dist/lib'), { recursive: true });
    await writeFile(join(dest, 'dist/stale.js'), 'old');
    await writeFile(join(dest, 'dist/lib/a.js'), 'old');
    await mkdir(join(dest, 'out'));
    await writeFile(join(dest, 'out/app.txt'), 'old');
    await writeFile(join(dest, 'out/other.txt'), 'not an output, stays');
    const other = (await snapshot(dest)).find((line) => line.startsWith('out/other.txt'));
    await restoreOutputs(tree, dest, cas);
    await rm(join(root, 'src'), { recursive: true });
    expect(await snapshot(dest)).toEqual([...(await snapshot(root)), other].sort());
  });

  it('throws KILN_CACHE_CORRUPT on a missing or corrupt blob and leaves the destination untouched', async () => {
    const root = await stepDir();
    const cas = new LocalCas({ dir: tempDir('kiln-tree-cas-') });
    const tree = await captureOutputs(root, OUTPUTS, cas);
    const file = (path: string) => tree.entries.find((e) => e.path === path) as { digest: Digest };
    const dest = tempDir('kiln-tree-dest-');
    await mkdir(join(dest, 'dist'));
    await writeFile(join(dest, 'dist/index.js'), 'previous build');
    const before = await snapshot(dest);

    await rm(cas.blobPath(file('dist/lib/b.js').digest));
    await expect(restoreOutputs(tree, dest, cas)).rejects.toMatchObject({ code: 'KILN_CACHE_CORRUPT' });
    expect(await snapshot(dest)).toEqual(before);

    await captureOutputs(root, OUTPUTS, cas); // heal, then rot the large one
    const bigPath = cas.blobPath(file('dist/big.bin').digest);
    await chmod(bigPath, 0o644);
    await writeFile(bigPath, Buffer.alloc(6 << 20, 'bug'));
    await expect(restoreOutputs(tree, dest, cas)).rejects.toMatchObject({ code: 'KILN_CACHE_CORRUPT' });
    expect(await snapshot(dest)).toEqual(before);
  });

  it('stores each small file from the bytes it hashed, and streams large ones for the store to re-hash', async () => {
    const root = await stepDir();
    const local = new LocalCas({ dir: tempDir('kiln-tree-cas-') });
    const calls: string[] = [];
    const recording: BlobStore = {
      getBlob: (d) => local.getBlob(d),
      hasBlob: (d) => local.hasBlob(d),
      putBlob: async (digest, data) => {
        expect(sha256Digest(data)).toBe(digest);
        calls.push(`bytes ${digest}`);
        await local.putBlob(digest, data);
      },
      putBlobFromFile: async (digest, path) => {
        calls.push(`file ${digest} ${path.slice(root.length + 1)}`);
        await local.putBlobFromFile(digest, path);
      },
      getAction: (k) => local.getAction(k),
      putAction: (k, e) => local.putAction(k, e),
    };
    const tree = await captureOutputs(root, ['dist'], recording);
    const digestOf = (path: string) => (tree.entries.find((e) => e.path === path) as { digest: Digest }).digest;
    expect(calls).toContain(`file ${digestOf('dist/big.bin')} dist/big.bin`);
    for (const path of ['dist/index.js', 'dist/lib/b.js', 'dist/bin/cli']) {
      expect(calls).toContain(`bytes ${digestOf(path)}`);
      expect(sha256Digest(await readFile(join(root, path)))).toBe(digestOf(path));
    }
    expect(calls.filter((c) => c.startsWith('file'))).toHaveLength(1);
    expect(await loadOutputTree(treeDigest(tree), local)).toEqual(tree);
  });

  it('does not trust the store: wrong bytes from a backend are KILN_CACHE_CORRUPT', async () => {
    const root = await stepDir();
    const local = new LocalCas({ dir: tempDir('kiln-tree-cas-') });
    const tree = await captureOutputs(root, ['out/app.txt'], local);
    const lying: BlobStore = {
      getBlob: async () => Buffer.from('app\n!'),
      hasBlob: async () => true,
      putBlob: async () => {},
      getAction: async () => undefined,
      putAction: async () => {},
    };
    const dest = tempDir('kiln-tree-dest-');
    await expect(restoreOutputs(tree, dest, lying)).rejects.toMatchObject({ code: 'KILN_CACHE_CORRUPT' });
    await expect(loadOutputTree(treeDigest(tree), lying)).rejects.toMatchObject({ code: 'KILN_CACHE_CORRUPT' });
    expect(await readdir(dest)).toEqual([]);
  });
});

describe('capture refuses unsafe or missing outputs', () => {
  const cas = () => new LocalCas({ dir: tempDir('kiln-tree-cas-') });

  it('refuses symlinks leading out of the step directory', async () => {
    for (const target of ['../../../etc/passwd', '/etc/passwd', 'lib/up/../../..']) {
      const root = await stepDir();
      await symlink(target, join(root, 'dist/evil'));
      await expect(captureOutputs(root, ['dist'], cas())).rejects.toMatchObject({ code: 'KILN_PACKAGE_UNSAFE' });
    }
  });

  it('refuses outputs reached through a symlinked directory, and paths outside the step', async () => {
    const root = await stepDir();
    const outside = tempDir('kiln-outside-');
    await writeFile(join(outside, 'secret'), 'secret');
    await symlink(outside, join(root, 'via'));
    await expect(captureOutputs(root, ['via/secret'], cas())).rejects.toMatchObject({ code: 'KILN_PACKAGE_UNSAFE' });
    for (const bad of ['../x', '/etc', '.', 'a/../../b']) {
      await expect(captureOutputs(root, [bad], cas())).rejects.toMatchObject({ code: 'KILN_CONFIG_INVALID' });
    }
  });

  it('names a declared output the step did not produce', async () => {
    const root = await stepDir();
    await expect(captureOutputs(root, ['dist', 'build/out.js'], cas())).rejects.toMatchObject({
      code: 'KILN_OUTPUT_MISSING',
      message: expect.stringContaining('build/out.js'),
    });
  });
});

describe('cached trees are validated before use', () => {
  const digest = `sha256:${'0'.repeat(64)}`;
  const bad: [string, unknown][] = [
    ['not an object', []],
    ['a path leaving the root', { entries: [{ kind: 'dir', path: '../x' }] }],
    ['an absolute path', { entries: [{ kind: 'dir', path: '/x' }] }],
    [
      'unsorted entries',
      {
        entries: [
          { kind: 'dir', path: 'b' },
          { kind: 'dir', path: 'a' },
        ],
      },
    ],
    [
      'duplicate entries',
      {
        entries: [
          { kind: 'dir', path: 'a' },
          { kind: 'dir', path: 'a' },
        ],
      },
    ],
    [
      'an entry under a symlink',
      {
        entries: [
          { kind: 'symlink', path: 'a', target: 'b' },
          { kind: 'dir', path: 'a/c' },
        ],
      },
    ],
    ['an absolute link', { entries: [{ kind: 'symlink', path: 'a', target: '/etc' }] }],
    ['a file without digest', { entries: [{ kind: 'file', path: 'a', size: 1, executable: false }] }],
    ['an unknown kind', { entries: [{ kind: 'fifo', path: 'a' }] }],
    ['a negative size', { entries: [{ kind: 'file', path: 'a', digest, size: -1, executable: false }] }],
  ];
  for (const [what, value] of bad) {
    it(`rejects ${what}`, () => {
      expect(() => parseOutputTree(Buffer.from(JSON.stringify(value)), 'test')).toThrow(
        expect.objectContaining({ code: 'KILN_CACHE_CORRUPT' }),
      );
    });
  }

  it('refuses to restore a link that climbs out through another link', async () => {
    // Each target looks harmless on its own; together `out/l` resolves above the root.
    const tree: OutputTree = parseOutputTree(
      Buffer.from(
        JSON.stringify({
          entries: [
            { kind: 'dir', path: 'a' },
            { kind: 'dir', path: 'a/b' },
            { kind: 'symlink', path: 'a/b/up', target: '../..' },
            { kind: 'symlink', path: 'l', target: 'a/b/up/..' },
          ],
        }),
      ),
      'test',
    );
    const dest = tempDir('kiln-tree-dest-');
    const cas = new LocalCas({ dir: tempDir('kiln-tree-cas-') });
    await expect(restoreOutputs(tree, dest, cas)).rejects.toMatchObject({ code: 'KILN_CACHE_CORRUPT' });
    expect(await readdir(dest)).toEqual([]);
  });
});
