// Needs the public npm registry (an `online` tier, not the default offline suite): the pnpm workspace and the yarn
// berry project with `resolutions` installed by their real package managers in a network step, then built and
// tested offline per package (app's test loads core through the link the install made) and verified.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureRepo, PACKAGE_ARTIFACTS } from '../helpers/monorepo.js';
import { kiln } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

const MANIFESTS = 'package.json, packages/app/package.json, packages/core/package.json';

/** The install step of each fixture: the package manager fetched by npx, the lockfile used as committed. */
const INSTALL = {
  'pnpm-workspace': `    run: npx --yes pnpm@9.15.9 install --frozen-lockfile --ignore-scripts
    inputs: [${MANIFESTS}, pnpm-lock.yaml, pnpm-workspace.yaml]
    outputs: [node_modules, packages/app/node_modules, packages/core/node_modules]`,
  'yarn-berry-resolutions': `    run: npx --yes @yarnpkg/cli-dist@4.18.1 install --immutable --mode=skip-build
    env: { YARN_ENABLE_GLOBAL_CACHE: "false", NODE_EXTRA_CA_CERTS: /etc/ssl/certs/ca-certificates.crt }
    inputs: [${MANIFESTS}, yarn.lock, .yarnrc.yml]
    outputs: [node_modules]`,
};

describe.each(Object.entries(INSTALL))('the %s fixture, installed from the registry', (fixture, install) => {
  it('builds and tests each package against its installed dependencies, and verifies each artifact', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    fixtureRepo(
      fixture,
      repo,
      `name: fixture
steps:
  install:
    network: true
${install}
  build:
    perPackage: true
    script: build
    inputs: [src, package.json]
    outputs: [dist]
  test:
    perPackage: true
    script: test
    needs: [install, build]
    inputs: [test, package.json]
    outputs: [smoke.txt]
${PACKAGE_ARTIFACTS}  - name: app-smoke
    from: test:@kiln-fixture/app
    path: packages/app/smoke.txt
    format: file
`,
    );
    const home = join(root, 'home');
    const built = kiln(['build', '--json'], { cwd: repo, home });
    expect(built.status, built.stderr).toBe(0);
    const artifacts = (JSON.parse(built.stdout) as { artifacts: { path: string }[] }).artifacts.map((a) => a.path);
    // app's test ran offline with core's dist and package.json laid out where node_modules/@kiln-fixture/core leads,
    // and debug got the ms the root pins (2.1.2, though debug asks for ^2.1.3).
    const smoke = artifacts.find((p) => p.endsWith('smoke.txt')) ?? '';
    expect(readFileSync(smoke, 'utf8')).toBe('core ms@2.1.2 odd(3)=true\n');
    for (const artifact of artifacts) {
      const verified = kiln(['verify', artifact, '--require', 'sbom,vulns,policy'], { cwd: repo, home });
      expect(verified.status, verified.stderr).toBe(0);
    }
  });
});
