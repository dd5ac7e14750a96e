// Inputs a user may not know are special: a git submodule, a file name with a newline, a Git LFS pointer. Each is
// either part of the build, refused, or reported; none is silently left out.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isKilnError } from '../../../src/core/errors.js';
import { commitInputIndex, expandInputsFrom } from '../../../src/plan/inputs.js';
import { listCommitFiles, readBlobs } from '../../../src/source/index.js';
import { type Harness, harness } from '../../helpers/harness.js';
import { demoProject } from '../../helpers/project.js';
import { git, makeRepo } from '../../helpers/repo.js';
import { tempDir } from '../../helpers/tmp.js';

const ENV = { PATH: process.env.PATH };

let h: Harness | undefined;
afterEach(async () => {
  await h?.kiln.close();
  h = undefined;
});

/** The demo project plus `files`, committed; `prepare` may change the index before a second commit. */
function project(files: Record<string, string>, prepare?: (repo: string) => void) {
  const root = tempDir();
  const repo = join(root, 'repo');
  makeRepo(repo, demoProject(files));
  if (prepare) {
    prepare(repo);
    git(repo, ['commit', '-q', '-m', 'more']);
  }
  h = harness({ cwd: root });
  return { repo, h };
}

describe('inputs a user may not know are special', () => {
  it('takes a file whose name holds a newline into a glob input, with its content digest', async () => {
    const repo = join(tempDir(), 'repo');
    const commit = makeRepo(repo, { 'src/a\nb.js': 'one\n', 'src/c.js': 'two\n' });
    const { files } = await listCommitFiles(repo, commit, '', ENV);
    const index = commitInputIndex(files, (blobs, onBlob) => readBlobs(repo, blobs, ENV, onBlob));
    for (const pattern of ['src/**', 'src/*.js', '**/*b.js', 'src'])
      expect((await expandInputsFrom(index, [pattern])).map((f) => f.path)).toContain('src/a\nb.js');
  });

  it('refuses a step whose inputs reach a git submodule, naming the step, the input and the submodule', async () => {
    const { repo, h } = project({}, (dir) => {
      // A gitlink, as `git submodule add` records it: a commit of another repository at src/vendor.
      const other = makeRepo(join(dir, '..', 'other'), { 'lib.js': 'x\n' });
      git(dir, ['update-index', '--add', '--cacheinfo', `160000,${other},src/vendor`]);
      mkdirSync(join(dir, 'src/vendor')); // an uninitialised submodule: an empty directory
    });
    const err = await h.kiln.plan({ projectPath: repo, allowDirty: false, runner: 'host' }).catch((e: unknown) => e);
    expect(isKilnError(err) && err.code).toBe('KILN_SOURCE_SUBMODULE');
    expect(String((err as Error).message)).toMatch(
      /step compile: input "src\/\*\*" reaches the git submodule src\/vendor/,
    );
  });

  it('plans a project whose submodule no input reaches', async () => {
    const { repo, h } = project({}, (dir) => {
      const other = makeRepo(join(dir, '..', 'other'), { 'lib.js': 'x\n' });
      git(dir, ['update-index', '--add', '--cacheinfo', `160000,${other},docs/theme`]);
      mkdirSync(join(dir, 'docs/theme'), { recursive: true });
    });
    const plan = await h.kiln.plan({ projectPath: repo, allowDirty: false, runner: 'host' });
    expect(plan.steps.map((s) => s.name)).toEqual(['compile', 'test']);
  });

  it('warns when an input is a Git LFS pointer rather than the file, on every build of it', async () => {
    const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${'a'.repeat(64)}\nsize 12345\n`;
    const { repo, h } = project({ 'src/logo.png': pointer, 'src/notes.txt': 'version 1 of the notes\n' });
    for (let i = 0; i < 2; i++) {
      await h.kiln.plan({ projectPath: repo, allowDirty: false, runner: 'host' });
      const warnings = h.of('warning').map((e) => e.message);
      expect(warnings.filter((m) => m.includes('Git LFS'))).toHaveLength(i + 1);
      expect(warnings.find((m) => m.includes('Git LFS'))).toMatch(/^inputs src\/logo\.png are Git LFS pointer files/);
    }
  });

  it('refuses a submodule and warns of an LFS pointer in a dirty build (--allow-dirty) too', async () => {
    const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${'b'.repeat(64)}\nsize 99\n`;
    const { repo, h } = project({}, (dir) => {
      const other = makeRepo(join(dir, '..', 'other'), { 'lib.js': 'x\n' });
      git(dir, ['update-index', '--add', '--cacheinfo', `160000,${other},src/vendor`]);
      mkdirSync(join(dir, 'src/vendor'));
    });
    writeFileSync(join(repo, 'src/logo.png'), pointer); // uncommitted
    const err = await h.kiln.plan({ projectPath: repo, allowDirty: true, runner: 'host' }).catch((e: unknown) => e);
    expect(isKilnError(err) && err.code).toBe('KILN_SOURCE_SUBMODULE');
    await h.kiln.close();
    const plain = project({});
    writeFileSync(join(plain.repo, 'src/logo.png'), pointer);
    await plain.h.kiln.plan({ projectPath: plain.repo, allowDirty: true, runner: 'host' });
    expect(plain.h.of('warning').map((e) => e.message)).toContainEqual(
      expect.stringMatching(/^inputs src\/logo\.png are Git LFS/),
    );
  });
});
