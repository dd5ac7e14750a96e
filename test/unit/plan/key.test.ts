import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../../../src/core/digest.js';
import { explainMiss } from '../../../src/plan/explain.js';
import { directoryInputIndex, expandInputs, expandInputsFrom, patternMatcher } from '../../../src/plan/inputs.js';
import { actionIngredients, actionKey } from '../../../src/plan/key.js';
import { tempDir } from '../../helpers/tmp.js';

describe('input patterns', () => {
  it.each([
    ['src/**', 'src/a.ts', true],
    ['src/**', 'src/deep/b.ts', true],
    ['src/**', 'srcx/a.ts', false],
    ['src/*.ts', 'src/a.ts', true],
    ['src/*.ts', 'src/deep/a.ts', false],
    ['src/**/*.ts', 'src/a.ts', true],
    ['src/**/*.ts', 'src/x/y/a.ts', true],
    ['src/**/*.ts', 'src/x/y/a.js', false],
    ['package.json', 'package.json', true],
    ['package.json', 'sub/package.json', false],
    ['src', 'src/a.ts', true],
    ['./src/', 'src/a.ts', true],
    ['a?.txt', 'ab.txt', true],
    ['a?.txt', 'a/.txt', false],
    ['file[1].txt', 'file[1].txt', true],
    ['.', 'anything/at/all.txt', true],
    ['./', 'top.txt', true],
  ])('%s matches %s: %s', (pattern, path, expected) => {
    expect(patternMatcher(pattern)(path)).toBe(expected);
  });

  it('expands to sorted files with digests and exec bits, without .git, deduplicated', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'src', 'deep'), { recursive: true });
    mkdirSync(join(root, '.git'));
    writeFileSync(join(root, '.git', 'HEAD'), 'x');
    writeFileSync(join(root, 'src', 'b.ts'), 'b');
    writeFileSync(join(root, 'src', 'deep', 'a.ts'), 'a');
    writeFileSync(join(root, 'run.sh'), '#!/bin/sh');
    chmodSync(join(root, 'run.sh'), 0o755);
    symlinkSync('src/b.ts', join(root, 'link'));
    writeFileSync(join(root, 'other.txt'), 'not an input');
    const files = await expandInputs(root, ['src/**', 'src/b.ts', 'run.sh', 'link', '**/HEAD', 'missing/*']);
    expect(files.map((f) => f.path)).toEqual(['link', 'run.sh', 'src/b.ts', 'src/deep/a.ts']);
    expect(files.find((f) => f.path === 'src/b.ts')?.digest).toBe(sha256Digest('b'));
    expect(files.find((f) => f.path === 'run.sh')?.executable).toBe(true);
    expect(files.find((f) => f.path === 'link')?.digest).toBe(sha256Digest('symlink:src/b.ts'));
  });
});

const BASE: {
  command: string;
  env: Record<string, string>;
  network: boolean;
  outputs: string[];
  inputs: { path: string; digest: `sha256:${string}`; executable: boolean }[];
  upstream: Record<string, `sha256:${string}`>;
  builder: `sha256:${string}`;
} = {
  command: 'make',
  env: { A: '1' },
  network: false,
  outputs: ['dist'],
  inputs: [{ path: 'src/a.ts', digest: sha256Digest('a'), executable: false }],
  upstream: { deps: sha256Digest('deps-out') },
  builder: sha256Digest('builder'),
};

describe('action keys and miss explanations', () => {
  it('is stable for equal ingredients, whatever their order', () => {
    const a = actionIngredients(BASE);
    const b = actionIngredients({ ...BASE, env: { A: '1' }, outputs: ['dist'] });
    expect(actionKey(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(actionKey(b)).toBe(actionKey(a));
    expect(explainMiss(a, b)).toEqual([{ kind: 'evicted', detail: expect.stringContaining('same key') }]);
  });

  const changes: [string, Partial<typeof BASE>, string, RegExp][] = [
    ['command', { command: 'make all' }, 'command', /command changed: "make" → "make all"/],
    ['env value', { env: { A: '2' } }, 'env', /env A changed/],
    ['env added', { env: { A: '1', B: 'x' } }, 'env', /env B added/],
    ['network', { network: true }, 'network', /network false → true/],
    ['outputs', { outputs: ['dist', 'types'] }, 'outputs', /declared outputs dist → dist, types/],
    [
      'input content',
      { inputs: [{ path: 'src/a.ts', digest: sha256Digest('A'), executable: false }] },
      'input-changed',
      /input changed: src\/a.ts$/,
    ],
    [
      'input mode',
      { inputs: [{ path: 'src/a.ts', digest: sha256Digest('a'), executable: true }] },
      'input-changed',
      /\(mode\)/,
    ],
    [
      'input added',
      { inputs: [...BASE.inputs, { path: 'src/b.ts', digest: sha256Digest('b'), executable: false }] },
      'input-added',
      /input added: src\/b.ts/,
    ],
    ['input removed', { inputs: [] }, 'input-removed', /input removed: src\/a.ts/],
    ['upstream', { upstream: { deps: sha256Digest('other') } }, 'upstream', /output of step deps changed/],
    ['builder', { builder: sha256Digest('builder2') }, 'builder', /builder \(toolchain\) changed/],
  ];
  it.each(changes)('a changed %s changes the key and is named', (_what, change, kind, detail) => {
    const before = actionIngredients(BASE);
    const now = actionIngredients({ ...BASE, ...change });
    expect(actionKey(now)).not.toBe(actionKey(before));
    const reasons = explainMiss(before, now);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]?.kind).toBe(kind);
    expect(reasons[0]?.detail).toMatch(detail);
  });

  it('says when there is no earlier build to compare with', () => {
    expect(explainMiss(undefined, actionIngredients(BASE))[0]?.kind).toBe('first-build');
  });
});

describe('input indexes', () => {
  it('matches the same files from an index as from a directory walk, whatever the patterns', async () => {
    const root = tempDir();
    for (const dir of ['packages/a/src/deep', 'packages/a-b/src', 'packages/ab', 'docs'])
      mkdirSync(join(root, dir), { recursive: true });
    for (const file of [
      'packages/a/src/x.ts',
      'packages/a/src/deep/y.ts',
      'packages/a/package.json',
      'packages/a-b/src/z.ts',
      'packages/ab/q.ts',
      'docs/readme.md',
      'package.json',
    ]) {
      writeFileSync(join(root, file), file);
    }
    const index = directoryInputIndex(root);
    for (const patterns of [
      ['packages/a/src/**'],
      ['packages/a'],
      ['packages/a/**/*.ts', 'package.json'],
      ['**/*.ts'],
      ['packages/*/src/**'],
      ['docs', 'packages/ab/q.ts', 'missing/**'],
      ['.'],
    ]) {
      expect(await expandInputsFrom(index, patterns)).toEqual(await expandInputs(root, patterns));
    }
    expect((await expandInputsFrom(index, ['packages/a'])).map((f) => f.path)).toEqual([
      'packages/a/package.json',
      'packages/a/src/deep/y.ts',
      'packages/a/src/x.ts',
    ]);
  });
});
