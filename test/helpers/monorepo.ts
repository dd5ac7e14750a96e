// A project made from a test/fixtures/monorepos/<name> fixture (locked by the real package manager): its files as
// committed, plus a little code per package (core and app, app loading core) and kiln.yaml, for e2e builds.
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeRepo, writeFiles } from './repo.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/monorepos');

/** The packages' code: core loads debug (whose ms the root pins), app loads core (a workspace dependency) and is-odd. */
const CODE = {
  'packages/core/src/index.js': `exports.name = 'core';
exports.debug = () => require('debug')('core');
// The ms that debug loads: the root's override or resolution pins it.
exports.msVersion = () => require(require.resolve('ms/package.json', { paths: [require.resolve('debug')] })).version;
`,
  'packages/app/src/index.js': `const core = require('@kiln-fixture/core');
exports.describe = () => core.name + ' ms@' + core.msVersion() + ' odd(3)=' + require('is-odd')(3);
`,
  'packages/app/test/smoke.js': "console.log(require('../dist/index.js').describe());\n",
};

/**
 * Makes the repository at `dir` from fixture `name` with `kilnYaml`; each package gets `main: dist/index.js` and a
 * `build` script (app a `test` script too), as a real package would have: neither changes what the lockfile locks.
 */
export function fixtureRepo(name: string, dir: string, kilnYaml: string): void {
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  rmSync(join(dir, 'oracle'), { recursive: true, force: true });
  for (const pkg of ['core', 'app']) {
    const file = join(dir, 'packages', pkg, 'package.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    manifest.main = 'dist/index.js';
    manifest.scripts = {
      build: 'mkdir -p dist && cp -R src/. dist/',
      ...(pkg === 'app' ? { test: 'node test/smoke.js > smoke.txt' } : {}),
    };
    writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  }
  writeFiles(dir, { ...CODE, 'kiln.yaml': kilnYaml, '.gitignore': 'kiln-out/\nnode_modules/\n.yarn/\n' });
  makeRepo(dir, {});
}

/** The artifacts every fixture build delivers: one per package, from its own perPackage step. */
export const PACKAGE_ARTIFACTS = `artifacts:
  - name: core
    from: build:@kiln-fixture/core
    path: packages/core/dist
  - name: app
    from: build:@kiln-fixture/app
    path: packages/app/dist
`;
