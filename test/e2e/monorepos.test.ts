// The pnpm workspace and the yarn berry project with `resolutions` (test/fixtures/monorepos, locked by the real
// package managers) build end to end offline: commit → one artifact per package from its own step, each with its own
// package's SBOM (what the package manager ships for it, recorded in the fixture's oracle/) → verify.
// Installing their registry packages needs the network: monorepos.online.test.ts does that.
import { readFileSync, rmSync } from 'node:fs';
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

const FIXTURES = join(import.meta.dirname, '../fixtures/monorepos');
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

/** What the package manager ships for package `pkg` of `fixture` (its oracle/), as `name@version`s. */
function shippedOracle(fixture: string, pkg: string): Set<string> {
  const dir = join(FIXTURES, fixture);
  const versions = new Map(
    ['app', 'core'].map((p) => readJson(join(dir, 'packages', p, 'package.json'))).map((m) => [m.name, m.version]),
  );
  const shipped = new Set<string>();
  if (fixture === 'pnpm-workspace') {
    // `pnpm list --prod --depth Infinity --json`: a workspace dependency is a `link:`, named by its version here.
    type Node = { version: string; dependencies?: Record<string, Node> };
    const walk = (node: Node) => {
      for (const [name, child] of Object.entries(node.dependencies ?? {})) {
        shipped.add(`${name}@${child.version.startsWith('link:') ? versions.get(name) : child.version}`);
        walk(child);
      }
    };
    for (const top of readJson(join(dir, `oracle/${pkg}.pnpm-list-prod.json`)) as Node[]) walk(top);
    return shipped;
  }
  // `yarn workspaces focus --production`: one `name@version<TAB>path` line per installed package, itself included.
  const self = `@kiln-fixture/${pkg}@${versions.get(`@kiln-fixture/${pkg}`)}`;
  for (const line of readFileSync(join(dir, `oracle/${pkg}.focus-production.txt`), 'utf8').split('\n')) {
    const id = line.split('\t')[0];
    if (id && id !== self) shipped.add(id);
  }
  return shipped;
}

type Named = { group?: string; name: string; version?: string; scope?: string };
const id = (c: Named) => `${c.group ? `${c.group}/` : ''}${c.name}@${c.version ?? ''}`;

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
    const sboms = artifacts.map((artifact) => readFileSync(`${artifact}.cdx.json`, 'utf8'));
    expect(sboms[0]).not.toBe(sboms[1]);
    for (const [i, pkg] of ['core', 'app'].entries()) {
      const bom = JSON.parse(sboms[i] ?? '') as { metadata: { component: Named }; components: Named[] };
      expect(id(bom.metadata.component)).toMatch(new RegExp(`^@kiln-fixture/${pkg}@`));
      const shipped = bom.components.filter((c) => c.scope !== 'excluded').map(id);
      expect(new Set(shipped)).toEqual(shippedOracle(fixture, pkg));
    }
    for (const artifact of artifacts) {
      const verified = kiln(['verify', artifact, '--require', 'sbom,vulns,policy'], { cwd: repo, home });
      expect(verified.status, verified.stderr).toBe(0);
      expect(verified.stdout).toContain(`verified: ${artifact}`);
    }
    // Handed back unchanged, each artifact's own evidence is restored beside it.
    rmSync(join(repo, 'kiln-out'), { recursive: true });
    const again = kiln(['build', '--json'], { cwd: repo, home });
    expect(again.status, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { upToDate: boolean }).upToDate).toBe(true);
    expect(artifacts.map((artifact) => readFileSync(`${artifact}.cdx.json`, 'utf8'))).toEqual(sboms);
  });
});
