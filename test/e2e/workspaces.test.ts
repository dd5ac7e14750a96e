import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { git, kiln, makeRepo, writeFiles } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

const pkg = (name: string, build: string, deps: string[] = []) =>
  JSON.stringify({
    name,
    version: '1.0.0',
    scripts: { build },
    dependencies: Object.fromEntries(deps.map((d) => [d, '*'])),
  });

// Three packages in a chain: each build concatenates its own source with its dependency's output.
const FILES = {
  'package.json': JSON.stringify({ name: 'mono', private: true, workspaces: ['packages/*'] }),
  'packages/a/package.json': pkg(
    '@mono/a',
    'mkdir -p dist && cat src/in.txt > dist/out.txt && echo $npm_package_name:$npm_lifecycle_event > dist/who',
  ),
  'packages/a/src/in.txt': 'A\n',
  'packages/b/package.json': pkg('@mono/b', 'mkdir -p dist && cat src/in.txt ../a/dist/out.txt > dist/out.txt', [
    '@mono/a',
  ]),
  'packages/b/src/in.txt': 'B\n',
  'packages/c/package.json': pkg('@mono/c', 'mkdir -p dist && cat src/in.txt ../b/dist/out.txt > dist/out.txt', [
    '@mono/b',
  ]),
  'packages/c/src/in.txt': 'C\n',
  'kiln.yaml': `name: mono
steps:
  build:
    perPackage: true
    script: build
    inputs: [src/**, package.json]
    outputs: [dist]
  check:
    perPackage: true
    run: test -s dist/out.txt
    needs: [build]
artifacts:
  - name: app
    from: build:@mono/c
    path: packages/c/dist
  - name: lib-a
    from: build:@mono/a
    path: packages/a/dist
`,
  '.gitignore': 'kiln-out/\n',
};

interface Built {
  cache: { hits: number; misses: number };
  steps: { name: string; cache: string; explanation: string[] }[];
  artifacts: { path: string }[];
}

describe('perPackage steps over npm workspaces', () => {
  it('expands one step per package in dependency order, runs script bodies directly, and caches per package', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    makeRepo(repo, FILES);
    const home = join(root, 'home');
    const run = () => {
      const r = kiln(['build', '--json', '--force'], { cwd: repo, home }); // the step cache is under test
      if (r.status !== 0) throw new Error(r.stderr);
      return JSON.parse(r.stdout) as Built;
    };
    const first = run();
    expect(first.steps.map((s) => s.name).filter((n) => n.startsWith('build:'))).toEqual([
      'build:@mono/a',
      'build:@mono/b',
      'build:@mono/c',
    ]);
    // A package's step of one template needs the same package's step of the template it names.
    const plan = JSON.parse(kiln(['plan', '--json'], { cwd: repo, home }).stdout) as {
      steps: { name: string; needs: string[] }[];
    };
    const checkNeeds = plan.steps.find((s) => s.name === 'check:@mono/b')?.needs ?? [];
    expect(checkNeeds).toContain('build:@mono/b');
    expect(checkNeeds.filter((n) => n.startsWith('build:'))).toEqual(['build:@mono/b']);
    const out = (b: Built) =>
      execFileSync('tar', ['-xzOf', b.artifacts[0]?.path ?? '', 'out.txt'], { encoding: 'utf8' });
    expect(out(first)).toBe('C\nB\nA\n');
    const second = run();
    expect(second.cache).toMatchObject({ hits: 6, misses: 0 });

    writeFiles(repo, { 'packages/b/src/in.txt': 'B2\n' });
    git(repo, ['commit', '-qam', 'change b'], '2024-05-02T00:00:00Z');
    const third = run();
    const byName = Object.fromEntries(third.steps.map((s) => [s.name, s]));
    expect(byName['build:@mono/a']?.cache).toBe('hit');
    expect(byName['build:@mono/b']?.explanation).toEqual(['input changed: packages/b/src/in.txt']);
    expect(byName['build:@mono/c']?.explanation).toEqual(['output of step build:@mono/b changed']);
    expect(out(third)).toBe('C\nB2\nA\n');
    // The script body ran directly, with npm's lifecycle variables set as `npm run` would.
    const libA = third.artifacts.find((a) => a.path.endsWith('lib-a.tgz'))?.path ?? '';
    expect(execFileSync('tar', ['-xzOf', libA, 'who'], { encoding: 'utf8' })).toBe('@mono/a:build\n');
  });
});
