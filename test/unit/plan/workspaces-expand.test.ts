import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { KilnError } from '../../../src/core/errors.js';
import {
  expandPerPackage,
  npmBinDirs,
  readWorkspaces,
  type StepTemplate,
  type WorkspacePackage,
} from '../../../src/plan/workspaces/read.js';
import { tempDir } from '../../helpers/tmp.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/workspaces');

const TEMPLATE: StepTemplate = {
  name: 'build',
  script: 'build',
  needs: ['deps'],
  inputs: ['src/**', 'package.json', '../../tsconfig.base.json'],
  outputs: ['dist'],
  env: { NODE_ENV: 'production' },
  network: false,
  timeout: 600,
  retries: 0,
};

function expanded(template: Partial<StepTemplate>, packages: readonly WorkspacePackage[]) {
  return expandPerPackage({ ...TEMPLATE, ...template }, packages, { binDirs: npmBinDirs });
}

describe('expandPerPackage', () => {
  it('makes one step per package with the script, needing the steps of every package it depends on', async () => {
    const steps = expanded({}, await readWorkspaces(join(FIXTURES, 'npm')));
    expect(steps.map((s) => [s.name, s.needs])).toEqual([
      ['build:@acme/core', ['deps']],
      ['build:@acme/ui', ['deps', 'build:@acme/core', 'build:@acme/utils']],
      ['build:@acme/utils', ['deps', 'build:@acme/core']],
      // @acme/types has no build script: web still waits for what it depends on through it
      ['build:web', ['deps', 'build:@acme/core', 'build:@acme/ui', 'build:@acme/utils']],
    ]);
    const ui = steps[1];
    expect(ui).toMatchObject({
      template: 'build',
      package: '@acme/ui',
      dir: 'packages/ui',
      // The root file a package reaches with ../../, and the package.json of each package it depends on.
      inputs: [
        'packages/ui/src/**',
        'packages/ui/package.json',
        'tsconfig.base.json',
        'packages/core/package.json',
        'packages/utils/package.json',
      ],
      outputs: ['packages/ui/dist'],
      env: {
        npm_package_name: '@acme/ui',
        npm_package_version: '0.3.0',
        npm_lifecycle_event: 'build',
        NODE_ENV: 'production',
      },
      pathPrefix: ['packages/ui/node_modules/.bin', 'packages/node_modules/.bin', 'node_modules/.bin'],
      network: false,
      timeout: 600,
    });
    expect(ui?.run).toBe(
      'PATH="$PWD/packages/ui/node_modules/.bin:$PWD/packages/node_modules/.bin:$PWD/node_modules/.bin:$PATH"; export PATH\n' +
        "mkdir -p 'packages/ui' && cd 'packages/ui' || exit 1\n" +
        'vite build',
    );
    expect(steps[3]?.env).not.toHaveProperty('npm_package_version'); // web has no version, as with npm
    expect(Object.isFrozen(steps[0]?.needs)).toBe(true);
  });

  it('chains pre and post scripts like npm, each with its own lifecycle event', async () => {
    const steps = expanded({}, await readWorkspaces(join(FIXTURES, 'npm')));
    expect(steps[0]?.run.split('\n').slice(1)).toEqual([
      "mkdir -p 'packages/core' && cd 'packages/core' || exit 1",
      '(npm_lifecycle_event=prebuild; export npm_lifecycle_event',
      'node gen.mjs',
      ') && (',
      'tsc -p . # compile',
      ') && (npm_lifecycle_event=postbuild; export npm_lifecycle_event',
      'echo built $npm_package_name',
      ')',
    ]);
    const noLifecycle = expandPerPackage(TEMPLATE, await readWorkspaces(join(FIXTURES, 'npm')), {
      binDirs: () => [],
      prePost: false,
    });
    expect(noLifecycle[0]?.run).toBe("mkdir -p 'packages/core' && cd 'packages/core' || exit 1\ntsc -p . # compile");
  });

  it('expands pnpm and yarn workspaces in dependency order', async () => {
    const pnpm = expanded({ needs: [] }, await readWorkspaces(join(FIXTURES, 'pnpm')));
    expect(pnpm.map((s) => [s.name, s.needs])).toEqual([
      ['build:base', []],
      ['build:cli', ['build:base', 'build:parser', 'build:printer']], // base too: parser's code loads it
      ['build:parser', ['build:base']],
      ['build:printer', ['build:base', 'build:parser']],
    ]);
    const yarn = expanded({ script: 'build', needs: [] }, await readWorkspaces(join(FIXTURES, 'yarn')));
    expect(yarn.map((s) => [s.name, s.needs])).toEqual([
      ['build:app', ['build:lib', 'build:plugin-alpha', 'build:shared']],
      ['build:lib', ['build:shared']],
      ['build:plugin-alpha', ['build:lib', 'build:shared']],
      ['build:plugin-beta', ['build:shared']],
      ['build:shared', []],
    ]);
  });

  it('runs a plain command in every package when given `run` instead of `script`', async () => {
    const packages = await readWorkspaces(join(FIXTURES, 'npm'));
    const steps = expanded({ name: 'lint', script: undefined, run: 'eslint .', inputs: ['.'] }, packages);
    expect(steps.map((s) => s.name)).toEqual([
      'lint:@acme/core',
      'lint:@acme/types',
      'lint:@acme/ui',
      'lint:@acme/utils',
      'lint:web',
    ]);
    expect(steps.find((s) => s.name === 'lint:web')?.needs).toEqual([
      'deps',
      'lint:@acme/core',
      'lint:@acme/types',
      'lint:@acme/ui',
      'lint:@acme/utils',
    ]);
    expect(steps[0]?.inputs).toEqual(['packages/core']);
    expect(steps[0]?.env).not.toHaveProperty('npm_lifecycle_event');
    expect(steps[0]?.run.endsWith('\neslint .')).toBe(true);
  });

  it('rejects a template with both or neither of script and run, and paths leaving the project', async () => {
    const packages = await readWorkspaces(join(FIXTURES, 'npm'));
    const errors = [
      () => expanded({ run: 'make' }, packages),
      () => expanded({ script: undefined }, packages),
      () => expanded({ inputs: ['../../../etc/passwd'] }, packages),
      () => expandPerPackage(TEMPLATE, packages, { binDirs: () => ['a:b'] }),
    ].map((fn) => {
      try {
        fn();
      } catch (err) {
        return err;
      }
      return undefined;
    });
    expect(errors.map((e) => (e as KilnError).code)).toEqual(Array(4).fill('KILN_CONFIG_INVALID'));
    expect((errors[2] as Error).message).toContain('"../../../etc/passwd" of package packages/core leaves the project');
  });

  it('produces a command that really runs: package dir, bin dirs on PATH, lifecycle order and env', async () => {
    const root = tempDir('kiln-ws-run-');
    const files: Record<string, string> = {
      'package.json': JSON.stringify({ workspaces: ['pkgs/*'] }),
      'pkgs/it s/package.json': JSON.stringify({
        name: 'spaced',
        version: '9.9.9',
        scripts: {
          prebuild: 'echo "pre $npm_lifecycle_event" >> log',
          build:
            'root-tool >> log; local-tool >> log; echo "main $npm_lifecycle_event $npm_package_name@$npm_package_version" >> log',
          postbuild: 'echo "post $npm_lifecycle_event" >> log',
        },
      }),
      'node_modules/.bin/root-tool': '#!/bin/sh\necho root-tool in "$(basename "$PWD")"\n',
      'pkgs/it s/node_modules/.bin/local-tool': '#!/bin/sh\necho local-tool\n',
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
      if (path.includes('.bin/')) chmodSync(join(root, path), 0o755);
    }
    const [step] = expanded({}, await readWorkspaces(root));
    if (!step) throw new Error('no step');
    execFileSync('/bin/sh', ['-c', step.run], { cwd: root, env: { PATH: '/usr/bin:/bin', ...step.env } });
    expect(readFileSync(join(root, 'pkgs/it s/log'), 'utf8').split('\n')).toEqual([
      'pre prebuild',
      'root-tool in it s',
      'local-tool',
      'main build spaced@9.9.9',
      'post postbuild',
      '',
    ]);
  });
});
