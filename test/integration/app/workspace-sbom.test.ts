// A workspace package's artifact carries that package's SBOM: built from the pnpm fixture (test/fixtures/monorepos),
// with a perPackage step, in process; and `kiln sbom --package` gives the same package's SBOM without building.
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

const KILN_YAML = (from: string) => `name: mono
steps:
  build:
    perPackage: true
    run: mkdir -p dist && cp package.json dist/
    inputs: [package.json]
    outputs: [dist]
artifacts:
  - name: shipped
    from: ${from}
    path: packages/${from === 'build:@kiln-fixture/app' ? 'app' : 'core'}/dist
`;

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

async function buildSbom(from: string): Promise<Bom> {
  const root = tempDir();
  const repo = join(root, 'repo');
  const files = Object.fromEntries(FILES.map((f) => [f, readFileSync(join(FIXTURE, f), 'utf8')]));
  makeRepo(repo, { ...files, 'kiln.yaml': KILN_YAML(from), '.gitignore': 'kiln-out/\n' });
  h = harness({ cwd: root });
  const built = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host' });
  const [artifact] = built.artifacts;
  if (artifact === undefined) throw new Error('no artifact');
  return JSON.parse(readFileSync(artifact.evidence.sbom, 'utf8')) as Bom;
}

describe('the SBOM of a workspace package’s artifact', () => {
  it('is the package’s: named after it, its runtime dependencies and its workspace dependency, its own dev ones', async () => {
    const bom = await buildSbom('build:@kiln-fixture/app');
    expect(bom.metadata.component).toMatchObject({ group: '@kiln-fixture', name: 'app', version: '0.3.0' });
    expect(ids(bom)).toEqual([
      '@kiln-fixture/core@1.2.0:required',
      '@types/debug@4.1.12:required',
      '@types/ms@2.1.0:required',
      'debug@4.3.7:required',
      'is-number@6.0.0:required',
      'is-odd@3.0.1:required',
      'ms@2.1.2:required',
      'picocolors@1.1.1:excluded',
      'statuses@2.0.1:required',
    ]);
  });

  it('differs from package to package', async () => {
    const bom = await buildSbom('build:@kiln-fixture/core');
    expect(bom.metadata.component).toMatchObject({ group: '@kiln-fixture', name: 'core', version: '1.2.0' });
    expect(ids(bom)).toEqual([
      '@types/debug@4.1.12:required',
      '@types/ms@2.1.0:required',
      'debug@4.3.7:required',
      'kind-of@6.0.3:excluded',
      'ms@2.1.2:required',
    ]);
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
