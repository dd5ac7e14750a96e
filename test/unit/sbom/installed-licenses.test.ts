import { promises as fsp } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type BlobStore, captureOutputs, LocalCas, type OutputTree } from '../../../src/cache/index.js';
import { casSbomMemo } from '../../../src/cache/sbom-memo.js';
import type { SourceView } from '../../../src/plan/source-view.js';
import {
  declaredLicense,
  installedLicenses,
  type LicenseSubject,
  type StepOutputs,
} from '../../../src/sbom/installed-licenses.js';
import { makeSbom } from '../../../src/sbom/make.js';
import { bomGraph } from '../../../src/scan/bom-components.js';
import { tempDir } from '../../helpers/tmp.js';

// Licenses as the packages declare them on the public registry; the same values npm 11 recorded in
// test/fixtures/sbom/pnpm-npm-v3/package-lock.json: react@18.2.0, scheduler@0.23.2, @types/ms@2.1.0 are "MIT".
const REACT = { name: 'react', version: '18.2.0', license: 'MIT' };
const SCHEDULER = { name: 'scheduler', version: '0.23.2', license: 'MIT' };

/** A step directory holding `files` (path → content) and `links` (path → target), captured into a real CAS. */
async function stepTree(
  cas: LocalCas,
  files: Record<string, unknown>,
  links: Record<string, string> = {},
): Promise<OutputTree> {
  const root = tempDir('kiln-installed-');
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), typeof content === 'string' ? content : JSON.stringify(content));
  }
  for (const [path, target] of Object.entries(links)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await symlink(target, join(root, path));
  }
  await mkdir(join(root, 'node_modules'), { recursive: true });
  return captureOutputs(root, ['node_modules'], cas);
}

const npm = (name: string, version: string, license?: string): LicenseSubject => ({
  name,
  purl: `pkg:npm/${name.replace('@', '%40')}@${version}`,
  license,
});

/** The CAS, counting reads: what the search costs. */
function counted(cas: LocalCas): { blobs: Pick<BlobStore, 'getBlob'>; reads: () => number } {
  let reads = 0;
  return {
    blobs: {
      getBlob: (d) => {
        reads++;
        return cas.getBlob(d);
      },
    },
    reads: () => reads,
  };
}

describe('installedLicenses', () => {
  it('matches installed package.json files by name and version, in every node_modules layout', async () => {
    const cas = new LocalCas({ dir: tempDir('kiln-cas-') });
    const tree = await stepTree(
      cas,
      {
        // pnpm: the real files under .pnpm, a symlink at the top (a link, never read).
        'node_modules/.pnpm/react@18.2.0/node_modules/react/package.json': REACT,
        // nested, and a scoped package with the deprecated { type, url } object (npm docs, package.json#license)
        'node_modules/react-dom/node_modules/scheduler/package.json': SCHEDULER,
        'node_modules/@types/ms/package.json': {
          name: '@types/ms',
          version: '2.1.0',
          license: { type: 'MIT', url: 'https://opensource.org/licenses/MIT' },
        },
        // the deprecated licenses array, as in npm's docs: [{ type: MIT }, { type: Apache-2.0 }] → MIT OR Apache-2.0
        'node_modules/dual/package.json': {
          name: 'dual',
          version: '1.0.0',
          licenses: [
            { type: 'MIT', url: 'https://www.opensource.org/licenses/mit-license.php' },
            { type: 'Apache-2.0', url: 'https://opensource.org/licenses/apache2.0.php' },
          ],
        },
        // an alias folder (npm i ms-old@npm:ms@2.0.0): matched by its name field, not its path
        'node_modules/ms-old/package.json': { name: 'ms', version: '2.0.0', license: 'MIT' },
        // not a package root: a nested package.json inside a package ({"type":"module"} files and the like)
        'node_modules/dual/esm/package.json': { name: 'loose-envify', version: '1.4.0', license: 'WRONG' },
        // another version of a wanted package, and a package the lockfile already licensed
        'node_modules/js-tokens/package.json': { name: 'js-tokens', version: '3.0.0', license: 'MIT' },
        'node_modules/kind-of/package.json': { name: 'kind-of', version: '6.0.3', license: 'GPL-3.0-only' },
      },
      { 'node_modules/react': '.pnpm/react@18.2.0/node_modules/react' },
    );
    const components = [
      npm('react', '18.2.0'),
      npm('scheduler', '0.23.2'),
      npm('@types/ms', '2.1.0'),
      npm('dual', '1.0.0'),
      npm('ms', '2.0.0'),
      npm('loose-envify', '1.4.0'),
      npm('js-tokens', '4.0.0'),
      npm('kind-of', '6.0.3', 'MIT'),
      { name: 'serde', purl: 'pkg:cargo/serde@1.0.0', license: undefined },
    ];
    const found = await installedLicenses({ components, steps: [{ step: 'deps', tree }], blobs: cas });
    expect(Object.fromEntries(found.licenses)).toEqual({
      'pkg:npm/react@18.2.0': 'MIT',
      'pkg:npm/scheduler@0.23.2': 'MIT',
      'pkg:npm/%40types/ms@2.1.0': 'MIT',
      'pkg:npm/dual@1.0.0': 'MIT OR Apache-2.0',
      'pkg:npm/ms@2.0.0': 'MIT',
    });
    expect(found.warnings).toEqual([]);
    // The package roots named like a wanted component, and the alias folder; not kind-of (licensed by the lockfile),
    // the link, or the nested esm/package.json.
    expect(found.read).toBe(6);
  });

  it('does nothing, reading nothing, when no npm component lacks a license or nothing is installed', async () => {
    const cas = new LocalCas({ dir: tempDir('kiln-cas-') });
    const tree = await stepTree(cas, { 'node_modules/react/package.json': REACT });
    const { blobs, reads } = counted(cas);
    const steps = [{ step: 'deps', tree }];
    const licensed = await installedLicenses({ components: [npm('react', '18.2.0', 'MIT')], steps, blobs });
    expect(licensed.licenses.size).toBe(0);
    const other = { name: 'serde', purl: 'pkg:cargo/serde@1.0.0', license: undefined };
    expect((await installedLicenses({ components: [other], steps, blobs })).licenses.size).toBe(0);
    const dist = await stepTree(cas, { 'node_modules/.cache/x/package.json': REACT, 'node_modules/x.json': REACT });
    const empty = await installedLicenses({
      components: [npm('react', '18.2.0')],
      steps: [{ step: 'b', tree: dist }],
      blobs,
    });
    expect(empty.licenses.size).toBe(0);
    expect(reads()).toBe(0);
  });

  it('stops reading once every wanted component was seen', async () => {
    const cas = new LocalCas({ dir: tempDir('kiln-cas-') });
    const files: Record<string, unknown> = { 'node_modules/react/package.json': REACT };
    for (let i = 0; i < 40; i++) files[`node_modules/alias-${i}/package.json`] = { name: `x${i}`, version: '1.0.0' };
    const tree = await stepTree(cas, files);
    const { blobs, reads } = counted(cas);
    const found = await installedLicenses({
      components: [npm('react', '18.2.0')],
      steps: [{ step: 's', tree }],
      blobs,
    });
    expect(found.licenses.get('pkg:npm/react@18.2.0')).toBe('MIT');
    expect(reads()).toBeLessThanOrEqual(16); // the first batch: react's folder is read first
  });

  it('gives the same answer whatever order the steps finished in: the first step by name wins', async () => {
    const cas = new LocalCas({ dir: tempDir('kiln-cas-') });
    const a = await stepTree(cas, { 'node_modules/react/package.json': REACT });
    const b = await stepTree(cas, { 'node_modules/react/package.json': { ...REACT, license: 'Apache-2.0' } });
    const run = (steps: StepOutputs[]) =>
      installedLicenses({ components: [npm('react', '18.2.0')], steps, blobs: cas }).then((f) => [...f.licenses]);
    const one = await run([
      { step: 'b-deps', tree: b },
      { step: 'a-deps', tree: a },
    ]);
    expect(one).toEqual([['pkg:npm/react@18.2.0', 'MIT']]);
    expect(
      await run([
        { step: 'a-deps', tree: a },
        { step: 'b-deps', tree: b },
      ]),
    ).toEqual(one);
  });

  it('skips hostile or broken manifests without failing, and says what it could not read', async () => {
    const cas = new LocalCas({ dir: tempDir('kiln-cas-') });
    const tree = await stepTree(cas, {
      'node_modules/a/package.json': '{ not json',
      'node_modules/b/package.json': '[1, 2]',
      'node_modules/c/package.json': { name: 'c', version: '1.0.0', license: 42 },
      'node_modules/d/package.json': { name: 'd', version: '1.0.0', license: 'x'.repeat(1500) },
      'node_modules/e/package.json': `\uFEFF${JSON.stringify({ name: 'e', version: '1.0.0', license: ' ISC ' })}`,
      'node_modules/f/package.json': { name: 'f', license: 'MIT' }, // no version: matches nothing
      'node_modules/g/package.json': { name: 'g', version: '1.0.0', license: '', licenses: ['BSD-2-Clause'] },
      'node_modules/h/package.json': { name: 'h', version: '1.0.0', license: 'MIT', pad: 'y'.repeat(3000) },
      'node_modules/i/package.json': { name: 'i', version: '1.0.0', license: 'MIT' },
    });
    // The blob of i's package.json altered in the CAS: it must not be believed.
    const i = tree.entries.find((e) => e.path === 'node_modules/i/package.json');
    if (i?.kind !== 'file') throw new Error('expected a file entry');
    await fsp.writeFile(cas.blobPath(i.digest), JSON.stringify({ name: 'i', version: '1.0.0', license: 'GPL-3.0' }));
    const components = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].map((n) => npm(n, '1.0.0'));
    const found = await installedLicenses({
      components,
      steps: [{ step: 'deps', tree }],
      blobs: cas,
      limits: { reads: 100, fileBytes: 2048 },
    });
    expect(Object.fromEntries(found.licenses)).toEqual({
      'pkg:npm/e@1.0.0': 'ISC',
      'pkg:npm/g@1.0.0': 'BSD-2-Clause',
    });
    expect(found.warnings).toEqual([
      '1 installed package.json file(s) over 2048 bytes were not read for licenses',
      '1 installed package.json file(s) could not be read from the cache (missing or altered): their licenses are not in the SBOM',
    ]);
  });

  it('reads at most the limit, and says the rest keep no license', async () => {
    const cas = new LocalCas({ dir: tempDir('kiln-cas-') });
    const files: Record<string, unknown> = {};
    for (const n of ['p1', 'p2', 'p3'])
      files[`node_modules/${n}/package.json`] = { name: n, version: '1.0.0', license: 'MIT' };
    const tree = await stepTree(cas, files);
    const { blobs, reads } = counted(cas);
    const components = ['p1', 'p2', 'p3'].map((n) => npm(n, '1.0.0'));
    const found = await installedLicenses({
      components,
      steps: [{ step: 's', tree }],
      blobs,
      limits: { reads: 2, fileBytes: 1 << 20 },
    });
    expect([...found.licenses.keys()]).toEqual(['pkg:npm/p1@1.0.0', 'pkg:npm/p2@1.0.0']);
    expect(reads()).toBe(2);
    expect(found.warnings).toEqual([
      'stopped after reading 2 installed package.json files (1 left): the npm packages not reached keep no license in the SBOM',
    ]);
  });
});

describe('declaredLicense', () => {
  // npm/cli lib/utils/sbom-cyclonedx.js: `license` (its `type` when an object), else `licenses` types joined with OR.
  it('reads the forms npm reads', () => {
    expect(declaredLicense({ license: '(MIT OR Apache-2.0)' })).toBe('(MIT OR Apache-2.0)');
    expect(declaredLicense({ license: 'SEE LICENSE IN LICENSE.txt' })).toBe('SEE LICENSE IN LICENSE.txt');
    expect(declaredLicense({ license: { type: 'ISC', url: 'x' } })).toBe('ISC');
    expect(declaredLicense({ licenses: [{ type: 'MIT' }] })).toBe('MIT');
    expect(declaredLicense({ licenses: ['MIT', { type: 'GPL-2.0-only' }] })).toBe('MIT OR GPL-2.0-only');
    // A part that is itself an expression keeps its meaning inside the OR.
    expect(declaredLicense({ licenses: [{ type: 'MIT AND CC0-1.0' }, { type: 'ISC' }] })).toBe(
      '(MIT AND CC0-1.0) OR ISC',
    );
    expect(declaredLicense({ licenses: [{ type: 'MIT' }, { type: 'MIT' }] })).toBe('MIT');
  });

  it('finds none in what is not a license', () => {
    expect(declaredLicense({})).toBeUndefined();
    expect(declaredLicense({ license: '   ' })).toBeUndefined();
    expect(declaredLicense({ license: { url: 'x' } })).toBeUndefined();
    expect(declaredLicense({ license: ['MIT'] })).toBeUndefined();
    expect(declaredLicense({ licenses: 'MIT' })).toBeUndefined();
    expect(declaredLicense({ licenses: [null, 7, { type: 7 }] })).toBeUndefined();
  });
});

describe('LockfileSbom.withLicenses', () => {
  const fixture = (path: string) => fsp.readFile(new URL(`../../fixtures/sbom/${path}`, import.meta.url));
  const source = { commit: 'd'.repeat(40), sourceDateEpoch: 1700000000, subdir: '' } as never;
  async function project(files: Record<string, string>) {
    const dir = tempDir('kiln-licensed-sbom-');
    for (const [path, fixturePath] of Object.entries(files))
      await fsp.writeFile(join(dir, path), await fixture(fixturePath));
    const view = { projectDir: dir, readFile: (p: string) => fsp.readFile(p) } as unknown as SourceView; // the two members makeSbom uses
    return (memo?: ReturnType<typeof casSbomMemo>) =>
      makeSbom({ view, source, config: { name: 'app' }, kilnVersion: '0.0.0-test', memo });
  }
  type Bom = { serialNumber: string; components: { purl: string; licenses?: unknown }[] };
  type Spdx = {
    documentNamespace: string;
    packages: { externalRefs?: { referenceLocator: string }[]; licenseDeclared: string }[];
  };
  const cdxLicense = (bom: unknown, purl: string) => (bom as Bom).components.find((c) => c.purl === purl)?.licenses;
  const spdxLicense = (doc: unknown, purl: string) =>
    (doc as Spdx).packages.find((p) => p.externalRefs?.[0]?.referenceLocator === purl)?.licenseDeclared;

  it('gives pnpm components the installed licenses, in both documents, deterministically', async () => {
    const make = await project({
      'package.json': 'pnpm-v9-single/package.json',
      'pnpm-lock.yaml': 'pnpm-v9-single/pnpm-lock.yaml',
    });
    const memo = casSbomMemo(new LocalCas({ dir: tempDir('kiln-cas-') }));
    const base = await make(memo);
    expect(cdxLicense(base.bom, 'pkg:npm/react@18.2.0')).toBeUndefined();
    const licenses = new Map([
      ['pkg:npm/react@18.2.0', 'MIT'],
      ['pkg:npm/scheduler@0.23.2', 'SEE LICENSE IN LICENSE'],
      ['pkg:npm/not-in-the-sbom@1.0.0', 'MIT'],
    ]);
    const licensed = await base.withLicenses(licenses);
    expect(cdxLicense(licensed.bom, 'pkg:npm/react@18.2.0')).toEqual([
      { expression: 'MIT', acknowledgement: 'declared' },
    ]);
    expect(cdxLicense(licensed.bom, 'pkg:npm/scheduler@0.23.2')).toEqual([
      { license: { name: 'SEE LICENSE IN LICENSE', acknowledgement: 'declared' } },
    ]);
    expect(cdxLicense(licensed.bom, 'pkg:npm/react-dom@18.2.0')).toBeUndefined(); // nothing installed for it
    expect(spdxLicense(licensed.spdx.doc, 'pkg:npm/react@18.2.0')).toBe('MIT');
    expect(spdxLicense(licensed.spdx.doc, 'pkg:npm/scheduler@0.23.2')).toBe('NOASSERTION'); // free text
    expect(spdxLicense(licensed.spdx.doc, 'pkg:npm/react-dom@18.2.0')).toBe('NOASSERTION');
    expect(licensed.lockfiles).toEqual(base.lockfiles);
    // A different document gets its own serial number and namespace.
    expect((licensed.bom as Bom).serialNumber).not.toBe((base.bom as Bom).serialNumber);
    expect((licensed.spdx.doc as Spdx).documentNamespace).not.toBe((base.spdx.doc as Spdx).documentNamespace);
    // The gate reads licenses from the CycloneDX document.
    const react = bomGraph(licensed.bom, 'test').components.find((c) => c.purl === 'pkg:npm/react@18.2.0');
    expect(react?.license).toBe('MIT');

    // Same inputs, same bytes: again (with only the schema check remembered), with the map in another order.
    const again = await (await make(memo)).withLicenses(new Map([...licenses].reverse()));
    expect(again.bytes.equals(licensed.bytes)).toBe(true);
    expect(again.spdx.bytes.equals(licensed.spdx.bytes)).toBe(true);
    // Nothing to add: the SBOM as it was.
    expect((await base.withLicenses(new Map([['pkg:npm/other@1.0.0', 'MIT']]))).bytes).toBe(base.bytes);
  });

  it('never replaces a license the lockfile gave', async () => {
    const make = await project({
      'package.json': 'pnpm-npm-v3/package.json',
      'package-lock.json': 'pnpm-npm-v3/package-lock.json',
    });
    const base = await make();
    const licensed = await base.withLicenses(new Map([['pkg:npm/react@18.2.0', 'GPL-3.0-only']]));
    expect(licensed.bytes).toBe(base.bytes);
    expect(cdxLicense(licensed.bom, 'pkg:npm/react@18.2.0')).toEqual([
      { expression: 'MIT', acknowledgement: 'declared' },
    ]);
  });
});
