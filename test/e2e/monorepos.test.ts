// The pnpm workspace and the yarn berry project with `resolutions` (test/fixtures/monorepos, locked by the real
// package managers) build end to end offline: commit → one artifact per package from its own step → verify.
// Installing their registry packages needs the network: monorepos.online.test.ts does that.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureRepo, PACKAGE_ARTIFACTS } from '../helpers/monorepo.js';
import { kiln } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

const KILN_YAML = `name: fixture
steps:
  build:
    perPackage: true
    script: build
    inputs: [src, package.json]
    outputs: [dist]
${PACKAGE_ARTIFACTS}`;

describe.each(['pnpm-workspace', 'yarn-berry-resolutions'])('the %s fixture', (fixture) => {
  it('builds one verified artifact per package, app after the core it depends on', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    fixtureRepo(fixture, repo, KILN_YAML);
    const home = join(root, 'home');
    const plan = JSON.parse(kiln(['plan', '--json'], { cwd: repo, home }).stdout) as {
      steps: { name: string; needs: string[]; inputs: string[] }[];
    };
    const app = plan.steps.find((s) => s.name === 'build:@kiln-fixture/app');
    expect(app?.needs).toEqual(['build:@kiln-fixture/core']);
    const built = kiln(['build', '--json'], { cwd: repo, home });
    expect(built.status, built.stderr).toBe(0);
    const artifacts = (JSON.parse(built.stdout) as { artifacts: { path: string }[] }).artifacts.map((a) => a.path);
    expect(artifacts.map((p) => p.slice(repo.length))).toEqual(['/kiln-out/core.tgz', '/kiln-out/app.tgz']);
    for (const artifact of artifacts) {
      const verified = kiln(['verify', artifact, '--require', 'sbom,vulns,policy'], { cwd: repo, home });
      expect(verified.status, verified.stderr).toBe(0);
      expect(verified.stdout).toContain(`verified: ${artifact}`);
    }
  });
});
