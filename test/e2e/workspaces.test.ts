import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
    // A package's step of one template needs the steps of the template it names of the same package and of the
    // packages it depends on (b depends on a, not on c).
    const plan = JSON.parse(kiln(['plan', '--json'], { cwd: repo, home }).stdout) as {
      steps: { name: string; needs: string[] }[];
    };
    const checkNeeds = plan.steps.find((s) => s.name === 'check:@mono/b')?.needs ?? [];
    expect(checkNeeds.filter((n) => n.startsWith('build:'))).toEqual(['build:@mono/a', 'build:@mono/b']);
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

// Package b's test loads package a through the node_modules link an (offline, registry-free) `npm ci` makes; a's
// build reads the root tsconfig.json with ../../.
const LINKED = {
  'package.json': JSON.stringify({ name: 'linked', private: true, workspaces: ['packages/*'] }),
  'package-lock.json': JSON.stringify({
    name: 'linked',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'linked', workspaces: ['packages/*'] },
      'node_modules/@mono/a': { resolved: 'packages/a', link: true },
      'node_modules/@mono/b': { resolved: 'packages/b', link: true },
      'packages/a': { name: '@mono/a', version: '1.0.0' },
      'packages/b': { name: '@mono/b', version: '1.0.0', dependencies: { '@mono/a': '1.0.0' } },
    },
  }),
  'tsconfig.json': JSON.stringify({ compilerOptions: { target: 'es2022' } }),
  'packages/a/package.json': JSON.stringify({
    name: '@mono/a',
    version: '1.0.0',
    main: 'dist/index.js',
    scripts: { build: 'node build.js' },
  }),
  'packages/a/build.js': `const fs = require('node:fs');
const { compilerOptions } = JSON.parse(fs.readFileSync('../../tsconfig.json', 'utf8'));
fs.mkdirSync('dist', { recursive: true });
fs.writeFileSync('dist/index.js', fs.readFileSync('src/index.js', 'utf8') + 'exports.target = ' + JSON.stringify(compilerOptions.target) + ';\\n');
`,
  'packages/a/src/index.js': "exports.hello = () => 'hello from a';\n",
  'packages/b/package.json': JSON.stringify({
    name: '@mono/b',
    version: '1.0.0',
    scripts: { test: 'node test/check.js > report.txt' },
    dependencies: { '@mono/a': '1.0.0' },
  }),
  'packages/b/test/check.js': "const a = require('@mono/a');\nconsole.log(a.hello() + ' (' + a.target + ')');\n",
  'kiln.yaml': `name: linked
steps:
  install:
    run: npm ci --offline --ignore-scripts --no-audit --no-fund
    inputs: [package.json, package-lock.json, packages/a/package.json, packages/b/package.json]
    outputs: [node_modules]
  build:
    perPackage: true
    script: build
    needs: [install]
    inputs: [src, build.js, package.json, ../../tsconfig.json]
    outputs: [dist]
  test:
    perPackage: true
    script: test
    needs: [install, build]
    inputs: [test, package.json]
    outputs: [report.txt]
artifacts:
  - name: a
    from: build:@mono/a
    path: packages/a/dist
  - name: b-report
    from: test:@mono/b
    path: packages/b/report.txt
    format: file
`,
  '.gitignore': 'kiln-out/\nnode_modules/\n',
};

describe('a package step sees its workspace dependencies as an install links them', () => {
  it('gets their package.json and outputs (implicit needs, in the key) and root files reached with ../', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    makeRepo(repo, LINKED);
    const home = join(root, 'home');
    const run = () => {
      const r = kiln(['build', '--json'], { cwd: repo, home });
      if (r.status !== 0) throw new Error(r.stderr);
      return JSON.parse(r.stdout) as Built;
    };
    const plan = JSON.parse(kiln(['plan', '--json'], { cwd: repo, home }).stdout) as {
      steps: { name: string; needs: string[] }[];
    };
    // b has no build script of its own: its test still waits for the build of a, which it loads.
    expect(plan.steps.find((s) => s.name === 'test:@mono/b')?.needs).toEqual(['install', 'build:@mono/a']);
    const report = (b: Built) =>
      readFileSync(b.artifacts.find((a) => a.path.endsWith('report.txt'))?.path ?? '', 'utf8');
    expect(report(run())).toBe('hello from a (es2022)\n');

    // The root file is an input of a's build: changing it rebuilds a and retests b.
    writeFiles(repo, { 'tsconfig.json': JSON.stringify({ compilerOptions: { target: 'es2024' } }) });
    git(repo, ['commit', '-qam', 'target es2024'], '2024-05-02T00:00:00Z');
    const second = run();
    const byName = (b: Built) => Object.fromEntries(b.steps.map((s) => [s.name, s]));
    expect(byName(second)['build:@mono/a']?.explanation).toEqual(['input changed: tsconfig.json']);
    expect(byName(second)['test:@mono/b']?.explanation).toEqual(['output of step build:@mono/a changed']);
    expect(report(second)).toBe('hello from a (es2024)\n');

    // a's package.json is an input of b's test (Node reads "main" there).
    const manifest = JSON.parse(LINKED['packages/a/package.json']);
    writeFiles(repo, { 'packages/a/package.json': JSON.stringify({ ...manifest, description: 'a' }, null, 1) });
    git(repo, ['commit', '-qam', 'describe a'], '2024-05-03T00:00:00Z');
    expect(byName(run())['test:@mono/b']?.explanation).toContain('input changed: packages/a/package.json');
  });
});

describe('kiln config check on perPackage steps', () => {
  it('expands them over the workspace and refuses an input that climbs out of the project', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    makeRepo(repo, { ...FILES, 'kiln.yaml': FILES['kiln.yaml'].replace('package.json]', 'package.json, ../../../x]') });
    const check = kiln(['config', 'check'], { cwd: repo, home: join(root, 'home') });
    expect(check.status).toBe(2);
    expect(check.stderr).toContain(
      'error KILN_CONFIG_INVALID: step "build": path "../../../x" of package packages/a leaves the project (it would be ../x)',
    );
    expect(check.stderr).toContain('"../" may reach files up to the project root (from packages/a: ../../)');
    makeRepo(join(root, 'ok'), { ...FILES, 'kiln.yaml': FILES['kiln.yaml'].replace('package.json]', '../../x]') });
    expect(kiln(['config', 'check'], { cwd: join(root, 'ok'), home: join(root, 'home') }).status).toBe(0);
  });
});
