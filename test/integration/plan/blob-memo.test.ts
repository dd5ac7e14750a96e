import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../../../src/core/digest.js';
import { type BlobMemoIo, loadBlobMemo } from '../../../src/plan/blob-memo.js';
import { commitInputIndex, expandInputs, expandInputsFrom } from '../../../src/plan/inputs.js';
import { commitBlobSizes, parseSizes } from '../../../src/source/commit-blob-sizes.js';
import { listCommitFiles, readBlobs } from '../../../src/source/index.js';
import { git, writeFiles } from '../../helpers/repo.js';
import { tempDir } from '../../helpers/tmp.js';

const ENV = { PATH: process.env.PATH };
const ALL = ['.'];

/** A committed project with the cases that matter: a shared blob, an executable, and a link whose target is also
 * a file's content (one blob, two kinds, two digests). */
function project(format: 'sha1' | 'sha256' = 'sha1'): string {
  const dir = tempDir();
  git(dir, ['init', '-q', '-b', 'main', `--object-format=${format}`]);
  writeFiles(dir, {
    'a.txt': 'alpha\n',
    'same-as-a.txt': 'alpha\n',
    'target-name': 'a.txt',
    'pkg/src/index.js': 'export const x = 1;\n',
    'pkg/run.sh': '#!/bin/sh\necho hi\n',
  });
  chmodSync(join(dir, 'pkg/run.sh'), 0o755);
  symlinkSync('a.txt', join(dir, 'link'));
  commitAll(dir, 'initial');
  return dir;
}

function commitAll(dir: string, message: string): string {
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', message]);
  return git(dir, ['rev-parse', 'HEAD']).trim();
}

/** The commit's input index as a build sets it up, counting the blobs it reads from git. */
async function commitIndex(dir: string, memo?: { file: string; io?: BlobMemoIo; maxOthers?: number }) {
  const commit = git(dir, ['rev-parse', 'HEAD']).trim();
  const { files } = await listCommitFiles(dir, commit, '', ENV);
  const read: string[] = [];
  const reader = (blobs: readonly string[], onBlob: (blob: string, content: Buffer) => void) => {
    read.push(...blobs);
    return readBlobs(dir, blobs, ENV, onBlob);
  };
  const opened =
    memo &&
    Promise.all([loadBlobMemo(memo.file, memo), commitBlobSizes(dir, commit, '', ENV)]).then(([m, sizes]) =>
      m.forCommit(sizes),
    );
  return { index: commitInputIndex(files, reader, opened), read };
}

function blobOf(dir: string, path: string): string {
  return git(dir, ['rev-parse', `HEAD:${path}`]).trim();
}

describe('blob memo', () => {
  it('lets a warm build read no blob, with the same digests as without a memo and as on disk', async () => {
    const dir = project();
    const file = join(tempDir(), 'blob-memo.txt');
    const expected = await expandInputs(dir, ALL);
    expect(expected.find((f) => f.path === 'link')?.digest).toBe(sha256Digest('symlink:a.txt'));

    const bare = await commitIndex(dir);
    expect(await expandInputsFrom(bare.index, ALL)).toEqual(expected);
    const cold = await commitIndex(dir, { file });
    expect(await expandInputsFrom(cold.index, ALL)).toEqual(expected);
    expect(cold.read.length).toBe(bare.read.length);

    const warm = await commitIndex(dir, { file });
    expect(await expandInputsFrom(warm.index, ALL)).toEqual(expected);
    expect(warm.read).toEqual([]);
  });

  it('reads only the blobs a new commit changed', async () => {
    const dir = project();
    const file = join(tempDir(), 'blob-memo.txt');
    await expandInputsFrom((await commitIndex(dir, { file })).index, ALL);
    writeFiles(dir, { 'pkg/src/index.js': 'export const x = 2;\n', 'pkg/new.txt': 'new\n' });
    commitAll(dir, 'change');

    const next = await commitIndex(dir, { file });
    expect(await expandInputsFrom(next.index, ALL)).toEqual(await expandInputs(dir, ALL));
    expect(next.read.sort()).toEqual([blobOf(dir, 'pkg/new.txt'), blobOf(dir, 'pkg/src/index.js')].sort());
  });

  it.each([
    ['empty', ''],
    ['not a memo', 'garbage\nmore garbage'],
    ['another format', '{"format":"kiln-tool-memo-v1","entries":[]}\n'],
    ['a newer version', 'kiln-blob-memo-v2\nsha1:file:00 00 0\n'],
    ['broken lines', 'kiln-blob-memo-v1\nnospace\n \nsha1:file:xx 12\nsha1:file:yy ZZZ 1\n\n\0\0\0'],
  ])('ignores a memo file that is %s, then replaces it with a valid one', async (_, text) => {
    const dir = project();
    const file = join(tempDir(), 'blob-memo.txt');
    writeFileSync(file, text);
    const first = await commitIndex(dir, { file });
    expect(await expandInputsFrom(first.index, ALL)).toEqual(await expandInputs(dir, ALL));
    expect(first.read.length).toBeGreaterThan(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^kiln-blob-memo-v1\n/);
    const again = await commitIndex(dir, { file });
    await expandInputsFrom(again.index, ALL);
    expect(again.read).toEqual([]);
  });

  it('works when the memo cannot be read or written (a directory, a read-only home)', async () => {
    const dir = project();
    const file = tempDir(); // a directory: reading fails, and so does renaming over it
    const failing: BlobMemoIo = { read: async () => '', write: () => Promise.reject(new Error('EROFS')) };
    for (const memo of [{ file }, { file: join(tempDir(), 'm.txt'), io: failing }]) {
      const built = await commitIndex(dir, memo);
      expect(await expandInputsFrom(built.index, ALL)).toEqual(await expandInputs(dir, ALL));
    }
  });

  it('re-reads a blob whose remembered size is not git’s size, and ignores malformed digests', async () => {
    const dir = project();
    const file = join(tempDir(), 'blob-memo.txt');
    await expandInputsFrom((await commitIndex(dir, { file })).index, ALL);
    const a = blobOf(dir, 'a.txt');
    const run = blobOf(dir, 'pkg/run.sh');
    const wrong = sha256Digest('not alpha').slice('sha256:'.length);
    const text = readFileSync(file, 'utf8')
      .replace(new RegExp(`^(sha1:file:${a}) .*$`, 'm'), `$1 ${wrong} ${'not alpha'.length}`)
      .replace(new RegExp(`^(sha1:file:${run}) (\\S+) `, 'm'), (_, key, hex: string) => `${key} ${hex.toUpperCase()} `);
    writeFileSync(file, text);

    const next = await commitIndex(dir, { file });
    expect(await expandInputsFrom(next.index, ALL)).toEqual(await expandInputs(dir, ALL));
    expect(next.read.sort()).toEqual([a, run].sort());
  });

  it('keys entries by object format: a sha256 repository never uses entries written for sha1', async () => {
    const sha1 = project('sha1');
    const sha256 = project('sha256');
    const file = join(tempDir(), 'blob-memo.txt');
    await expandInputsFrom((await commitIndex(sha1, { file })).index, ALL);
    // Forge sha1 entries under the sha256 repository's ids, with the right sizes and wrong digests.
    const a = blobOf(sha256, 'a.txt');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    const forged = `sha1:file:${a} ${sha256Digest('forged').slice(7)} ${'alpha\n'.length}\n`;
    writeFileSync(file, readFileSync(file, 'utf8') + forged);

    const cold = await commitIndex(sha256, { file });
    expect(await expandInputsFrom(cold.index, ALL)).toEqual(await expandInputs(sha256, ALL));
    expect(cold.read).toContain(a);
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.some((l) => l.startsWith('sha1:file:'))).toBe(true);
    expect(lines.some((l) => l.startsWith(`sha256:file:${a} `))).toBe(true);
    expect(lines.some((l) => l.startsWith(`sha256:symlink:${blobOf(sha256, 'link')} `))).toBe(true);

    for (const dir of [sha1, sha256]) {
      const warm = await commitIndex(dir, { file });
      expect(await expandInputsFrom(warm.index, ALL)).toEqual(await expandInputs(dir, ALL));
      expect(warm.read).toEqual([]);
    }
  });

  it('keeps every entry this build used plus only the most recent others', async () => {
    const dir = project();
    const file = join(tempDir(), 'blob-memo.txt');
    const other = (n: number) => `sha1:file:${String(n).repeat(40).slice(0, 40)} ${'0'.repeat(64)} ${n}`;
    writeFileSync(file, `kiln-blob-memo-v1\n${[1, 2, 3].map(other).join('\n')}\n`);
    const built = await commitIndex(dir, { file, maxOthers: 2 });
    await expandInputsFrom(built.index, ALL);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines.slice(0, 3)).toEqual(['kiln-blob-memo-v1', other(2), other(3)]);
    expect(lines.length - 3).toBe(new Set(built.read).size + 1); // + the blob read both as a file and as a link
  });
});

describe('commit blob sizes', () => {
  it('gives the object format and the size of every blob under the project directory', async () => {
    const dir = project('sha256');
    mkdirSync(join(dir, 'pkg', 'empty'));
    writeFiles(dir, { 'pkg/empty/zero': '' });
    const commit = commitAll(dir, 'more');
    const got = await commitBlobSizes(dir, commit, 'pkg', ENV);
    expect(got.format).toBe('sha256');
    expect(new Map(got.sizes)).toEqual(
      new Map([
        [blobOf(dir, 'pkg/src/index.js'), 20],
        [blobOf(dir, 'pkg/run.sh'), 18],
        [blobOf(dir, 'pkg/empty/zero'), 0],
      ]),
    );
  });

  it('skips submodules and malformed records', () => {
    const id = 'a'.repeat(40);
    const listing = [
      `100644 blob ${id}      12\tf`,
      `160000 commit ${'b'.repeat(40)}       -\tsub`,
      `100644 blob ${'c'.repeat(40)}       x\tbad`,
      'no tab here',
      '',
    ].join('\0');
    expect(parseSizes(listing)).toEqual(new Map([[id, 12]]));
  });
});
