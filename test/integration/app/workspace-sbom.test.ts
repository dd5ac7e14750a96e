// A workspace package's artifact carries that package's SBOM: built from the pnpm fixture (test/fixtures/monorepos),
// with a perPackage step, in process, alone or beside the other package's artifact in one build; and
// `kiln sbom --package` gives the same package's SBOM without building.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, harness } from '../../helpers/harness.js';
import { makeRepo } from '../../helpers/repo.js';
import { tempDir } from '../../helpers/tmp.js';

const FIXTURE = join(import.meta.dirname, '../../fixtures/monorepos/pnpm-workspace');
const FILES = [
  'package.json',
  'pnpm-workspace.yaml',
  'pnpm-lock.yaml',
  'packages/app/package.json',
  'packages/core/package.json',
];

const STEPS = `name: mono
steps:
  build:
    perPackage: true
    run: mkdir -p dist && cp package.json dist/
    inputs: [package.json]
    outputs: [dist]
artifacts:
`;
const ARTIFACT = (name: string, pkg: 'app' | 'core') => `  - name: ${name}
    from: build:@kiln-fixture/${pkg}
    path: packages/${pkg}/dist
`;

/** What app's and core's SBOMs list (kiln sbom --package and pnpm list agree: see workspace-packages.test.ts). */
const APP_IDS = [
  '@kiln-fixture/core@1.2.0:required',
  '@types/debug@4.1.12:required',
  '@types/ms@2.1.0:required',
  'debug@4.3.7:required',
  'is-number@6.0.0:required',
  'is-odd@3.0.1:required',
  'ms@2.1.2:required',
  'picocolors@1.1.1:excluded',
  'statuses@2.0.1:required',
];
const CORE_IDS = [
  '@types/debug@4.1.12:required',
  '@types/ms@2.1.0:required',
  'debug@4.3.7:required',
  'kind-of@6.0.3:excluded',
  'ms@2.1.2:required',
];

type Bom = {
  metadata: { component: { group?: string; name: string; version?: string } };
  components: { group?: string; name: string; version?: string; scope?: string }[];
};
const ids = (bom: Bom) =>
  bom.components.map((c) => `${c.group ? `${c.group}/` : ''}${c.name}@${c.version ?? ''}:${c.scope}`).sort();

let h: Harness | undefined;
afterEach(async () => {
  await h?.kiln.close();
  h = undefined;
});

/** Builds the fixture with `artifacts` (kiln.yaml entries); each delivered artifact's name and SBOM. */
async function buildSboms(...artifacts: string[]): Promise<{ name: string; bom: Bom; bytes: string }[]> {
  const root = tempDir();
  const repo = join(root, 'repo');
  const files = Object.fromEntries(FILES.map((f) => [f, readFileSync(join(FIXTURE, f), 'utf8')]));
  makeRepo(repo, { ...files, 'kiln.yaml': STEPS + artifacts.join(''), '.gitignore': 'kiln-out/\n' });
  h = harness({ cwd: root });
  const built = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host' });
  return built.artifacts.map((a) => {
    const bytes = readFileSync(a.evidence.sbom, 'utf8');
    return { name: a.name, bom: JSON.parse(bytes) as Bom, bytes };
  });
}

async function buildSbom(pkg: 'app' | 'core'): Promise<Bom> {
  const [built] = await buildSboms(ARTIFACT('shipped', pkg));
  if (built === undefined) throw new Error('no artifact');
  return built.bom;
}

describe('the SBOM of a workspace package’s artifact', () => {
  it('is the package’s: named after it, its runtime dependencies and its workspace dependency, its own dev ones', async () => {
    const bom = await buildSbom('app');
    expect(bom.metadata.component).toMatchObject({ group: '@kiln-fixture', name: 'app', version: '0.3.0' });
    expect(ids(bom)).toEqual(APP_IDS);
  });

  it('differs from package to package', async () => {
    const bom = await buildSbom('core');
    expect(bom.metadata.component).toMatchObject({ group: '@kiln-fixture', name: 'core', version: '1.2.0' });
    expect(ids(bom)).toEqual(CORE_IDS);
  });

  it('is the package’s also when one build ships both packages’ artifacts', async () => {
    const [core, app] = await buildSboms(ARTIFACT('core', 'core'), ARTIFACT('app', 'app'));
    expect(core?.name).toBe('core');
    expect(core?.bom.metadata.component).toMatchObject({ group: '@kiln-fixture', name: 'core', version: '1.2.0' });
    expect(ids(core?.bom as Bom)).toEqual(CORE_IDS);
    expect(app?.name).toBe('app');
    expect(app?.bom.metadata.component).toMatchObject({ group: '@kiln-fixture', name: 'app', version: '0.3.0' });
    expect(ids(app?.bom as Bom)).toEqual(APP_IDS);
    expect(app?.bytes).not.toBe(core?.bytes);
  });

  it('is judged on its own: a block reports each package’s violations and keeps each one’s evidence', async () => {
    // pnpm-lock.yaml records no licenses and the steps install nothing: every dependency's license is unknown.
    const policy = 'policy:\n  licenses:\n    unknown: block\n';
    const err = await buildSboms(ARTIFACT('core', 'core'), ARTIFACT('app', 'app'), policy).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'KILN_POLICY_BLOCKED' });
    const { message, details } = err as { message: string; details: { evidenceDir: string } };
    const [, core, app] = message.split(/\n {2}(?=\S+\.tgz:\n)/);
    // Each under its artifact, with its own package's dependencies: statuses is app's alone.
    const lines = (part: string | undefined) => part?.split('\n').slice(1) ?? [];
    expect(core).toMatch(/^core\.tgz:\n/);
    expect(lines(core)).toContain('    core → debug@4.3.7: license not declared: no license is declared');
    expect(lines(core).every((l) => l.startsWith('    core → '))).toBe(true);
    expect(core).not.toContain('statuses');
    expect(app).toMatch(/^app\.tgz:\n/);
    expect(lines(app)).toContain('    app → statuses@2.0.1: license not declared: no license is declared');
    expect(lines(app).every((l) => l.startsWith('    app → '))).toBe(true);
    const kept = (name: string) => readFileSync(join(details.evidenceDir, `${name}.cdx.json`), 'utf8');
    expect(ids(JSON.parse(kept('core.tgz')) as Bom)).toEqual(CORE_IDS);
    expect(ids(JSON.parse(kept('app.tgz')) as Bom)).toEqual(APP_IDS);
  });

  it('is what kiln sbom --package prints for the package', async () => {
    const root = tempDir();
    h = harness({ cwd: root });
    const bytes = await h.kiln.sbom({ projectPath: FIXTURE, format: 'cyclonedx', package: '@kiln-fixture/core' });
    const bom = JSON.parse(bytes.toString('utf8')) as Bom;
    expect(ids(bom)).toContain('kind-of@6.0.3:excluded');
    expect(ids(bom)).not.toContain('statuses@2.0.1:required');
    await expect(h.kiln.sbom({ projectPath: FIXTURE, format: 'cyclonedx', package: 'nope' })).rejects.toThrow(
      /no workspace package "nope" \(packages: @kiln-fixture\/app, @kiln-fixture\/core\)/,
    );
  });
});
