import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/core/digest.js';
import {
  type Component,
  type ComponentGraph,
  cycloneDxDocument,
  readNpmLockfile,
  type SpdxDocument,
  serializeSpdx,
  spdxDocument,
  validateSpdx,
} from '../../../src/sbom/index.js';

const read = (rel: string) => readFileSync(new URL(rel, import.meta.url), 'utf8');
const LOCKFILES = {
  'examples/hello-node': read('../../../examples/hello-node/package-lock.json'),
  'test/fixtures/sbom/npm-app-v3': read('../../fixtures/sbom/npm-app-v3/package-lock.json'),
  'test/fixtures/sbom/npm-app-v2': read('../../fixtures/sbom/npm-app-v2/package-lock.json'),
};
const META = {
  commit: '3f2a0c1d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f',
  sourceDateEpoch: 1700000000,
  toolName: 'kiln',
  toolVersion: '0.1.0',
};
const ID_RE = /^SPDXRef-[A-Za-z0-9.-]+$/;
const V3 = readNpmLockfile(LOCKFILES['test/fixtures/sbom/npm-app-v3'], 'package-lock.json');

const purlOf = (doc: SpdxDocument, id: string) =>
  doc.packages.find((p) => p.SPDXID === id)?.externalRefs?.find((r) => r.referenceType === 'purl')?.referenceLocator;

/** The relationships of one type as `from → to` purls, oriented dependent → dependency. */
function edges(doc: SpdxDocument, type: string, reversed = false): string[] {
  return doc.relationships
    .filter((r) => r.relationshipType === type)
    .map((r) => {
      const [from, to] = reversed ? [r.relatedSpdxElement, r.spdxElementId] : [r.spdxElementId, r.relatedSpdxElement];
      return `${purlOf(doc, from)} → ${purlOf(doc, to)}`;
    })
    .sort();
}

function component(name: string, ref: string, extra: Partial<Component> = {}): Component {
  return {
    ref,
    name,
    version: '1.0.0',
    purl: ref,
    scope: 'runtime',
    direct: true,
    hashes: [],
    dependsOn: [],
    ...extra,
  };
}

const graphOf = (components: Component[]): ComponentGraph => ({ ...V3, components });

describe.each(Object.entries(LOCKFILES))('spdxDocument for %s', (_name, text) => {
  const graph = readNpmLockfile(text, 'package-lock.json');
  const doc = spdxDocument(graph, META);
  const bom = cycloneDxDocument(graph, META);

  it('validates against the official SPDX 2.3 schema and rules', () => {
    expect(() => validateSpdx(doc)).not.toThrow();
  });

  it('has one package per CycloneDX component plus the root, each purl exactly once', () => {
    expect(bom.components.length).toBeGreaterThan(0);
    expect(doc.packages).toHaveLength(bom.components.length + 1);
    const purls = doc.packages.flatMap((p) => p.externalRefs?.map((r) => r.referenceLocator) ?? []);
    for (const c of bom.components) expect(purls.filter((p) => p === c.purl)).toEqual([c.purl]);
    expect(purls.filter((p) => p === bom.metadata.component.purl)).toHaveLength(1);
  });

  it('mirrors every graph edge exactly once: DEPENDS_ON, or *_DEPENDENCY_OF for the root’s dev/optional ones', () => {
    const rootEdges = (scope: string) =>
      graph.components.filter((c) => c.direct && c.scope === scope).map((c) => `${graph.root.ref} → ${c.ref}`);
    const dependsOn = [
      ...rootEdges('runtime'),
      ...graph.components.flatMap((c) => c.dependsOn.map((d) => `${c.ref} → ${d}`)),
    ].sort();
    expect(edges(doc, 'DEPENDS_ON')).toEqual(dependsOn);
    expect(edges(doc, 'DEV_DEPENDENCY_OF', true)).toEqual(rootEdges('dev').sort());
    expect(edges(doc, 'OPTIONAL_DEPENDENCY_OF', true)).toEqual(rootEdges('optional').sort());
    expect(doc.relationships).toHaveLength(
      1 + dependsOn.length + rootEdges('dev').length + rootEdges('optional').length,
    );
  });

  it('describes the root project, and sorts packages by SPDXID and relationships by (from, type, to)', () => {
    const root = doc.packages.find((p) => p.primaryPackagePurpose === 'APPLICATION');
    expect(doc.relationships.filter((r) => r.relationshipType === 'DESCRIBES')).toEqual([
      { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: root?.SPDXID },
    ]);
    const ids = doc.packages.map((p) => p.SPDXID);
    expect(ids).toEqual([...ids].sort());
    const keys = doc.relationships.map((r) => [r.spdxElementId, r.relationshipType, r.relatedSpdxElement].join(' '));
    expect(keys).toEqual([...keys].sort());
  });
});

describe('spdxDocument fields', () => {
  const doc = spdxDocument(V3, META);

  it('writes the document header from the inputs only', () => {
    expect(doc).toMatchObject({
      spdxVersion: 'SPDX-2.3',
      dataLicense: 'CC0-1.0',
      SPDXID: 'SPDXRef-DOCUMENT',
      name: 'kiln-fixture-app@1.0.0',
      creationInfo: { created: '2023-11-14T22:13:20Z', creators: ['Tool: kiln-0.1.0'] },
    });
    expect(doc.documentNamespace).toMatch(/^https:\/\/kiln\.dev\/spdx\/kiln-fixture-app\/[0-9a-f]{64}$/);
  });

  it('writes a component with its purl, hex checksum and declared license', () => {
    expect(doc.packages.find((p) => p.name === '@types/debug')).toEqual({
      SPDXID: 'SPDXRef-npm-types-debug-4.1.12',
      name: '@types/debug',
      versionInfo: '4.1.12',
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      primaryPackagePurpose: 'LIBRARY',
      externalRefs: [
        {
          referenceCategory: 'PACKAGE-MANAGER',
          referenceType: 'purl',
          referenceLocator: 'pkg:npm/%40types/debug@4.1.12',
        },
      ],
      checksums: [
        {
          algorithm: 'SHA512',
          checksumValue:
            'bc80a159d546dcb1b548cc44bc8fc02be15626d865aea953bbb7dbae5cb04e491a38dc24fd40066942d74657fcbe4cc504b566d3390c742aae84be5a3a38573d',
        },
      ],
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'MIT',
      copyrightText: 'NOASSERTION',
    });
  });

  it('maps every integrity algorithm to its SPDX name', () => {
    const hashes = [
      { alg: 'SHA-512', hex: 'aa' },
      { alg: 'SHA-384', hex: 'bb' },
      { alg: 'SHA-256', hex: 'cc' },
      { alg: 'SHA-1', hex: 'dd' },
    ] as const;
    const one = spdxDocument(graphOf([component('h', 'pkg:npm/h@1.0.0', { hashes })]), META);
    expect(one.packages.find((p) => p.name === 'h')?.checksums?.map((c) => c.algorithm)).toEqual([
      'SHA512',
      'SHA384',
      'SHA256',
      'SHA1',
    ]);
  });

  it('declares only licenses that are SPDX expressions without LicenseRef-s, else NOASSERTION', () => {
    const licensed = (license: string) =>
      spdxDocument(graphOf([component('l', 'pkg:npm/l@1.0.0', { license })]), META).packages.find((p) => p.name === 'l')
        ?.licenseDeclared;
    expect(licensed('(MIT OR Apache-2.0)')).toBe('(MIT OR Apache-2.0)');
    expect(licensed('GPL-2.0-or-later WITH Classpath-exception-2.0')).toBe(
      'GPL-2.0-or-later WITH Classpath-exception-2.0',
    );
    for (const text of ['SEE LICENSE IN LICENSE.md', 'UNLICENSED', 'LicenseRef-Acme', 'MIT OR']) {
      expect(licensed(text)).toBe('NOASSERTION');
    }
  });

  it('omits versionInfo when the lockfile records no version, and stays valid', () => {
    const doc = spdxDocument(graphOf([component('nov', 'pkg:npm/nov', { version: '' })]), META);
    expect(doc.packages.find((p) => p.name === 'nov')).not.toHaveProperty('versionInfo');
    expect(() => validateSpdx(doc)).not.toThrow();
  });

  it('returns a document with its outline frozen', () => {
    expect(Object.isFrozen(doc)).toBe(true);
    expect(Object.isFrozen(doc.creationInfo)).toBe(true);
    expect(Object.isFrozen(doc.packages)).toBe(true);
    expect(Object.isFrozen(doc.relationships)).toBe(true);
  });

  it('refuses a sourceDateEpoch that is not whole seconds in range', () => {
    for (const sourceDateEpoch of [-1, 1.5, Number.NaN, 1e15]) {
      expect(() => spdxDocument(V3, { ...META, sourceDateEpoch })).toThrow(
        expect.objectContaining({ code: 'KILN_USAGE' }),
      );
    }
  });

  it('rejects a graph with edges to components it does not contain', () => {
    const broken = graphOf([component('a', 'pkg:npm/a@1.0.0', { dependsOn: ['pkg:npm/ghost@1.0.0'] })]);
    expect(() => spdxDocument(broken, META)).toThrow(/edges to unknown components: .* → pkg:npm\/ghost@1\.0\.0/);
  });
});

describe('spdxDocument determinism', () => {
  const bytes = serializeSpdx(spdxDocument(V3, META));

  it('matches the golden file byte for byte', async () => {
    await expect(bytes.toString('utf8')).toMatchFileSnapshot('../../fixtures/sbom/npm-app-v3/sbom.spdx.json');
  });

  it('gives the same canonical bytes for the same inputs', () => {
    const again = readNpmLockfile(LOCKFILES['test/fixtures/sbom/npm-app-v3'], 'package-lock.json');
    expect(serializeSpdx(spdxDocument(again, { ...META })).equals(bytes)).toBe(true);
    const text = bytes.toString('utf8');
    expect(text.startsWith('{\n  "SPDXID": "SPDXRef-DOCUMENT",\n  "creationInfo"')).toBe(true);
    expect(text.endsWith('}\n')).toBe(true);
  });

  it('does not depend on the order of the graph’s components', () => {
    const reversed = { ...V3, components: [...V3.components].reverse() };
    expect(serializeSpdx(spdxDocument(reversed, META)).equals(bytes)).toBe(true);
  });

  it('changes only `created` for a different commit time', () => {
    const base = JSON.parse(bytes.toString('utf8')) as SpdxDocument;
    const later = JSON.parse(serializeSpdx(spdxDocument(V3, { ...META, sourceDateEpoch: 1800000000 })).toString());
    expect(later.creationInfo.created).toBe('2027-01-15T08:00:00Z');
    expect({ ...later, creationInfo: base.creationInfo }).toEqual(base);
  });

  it('changes only the namespace for a different commit or Kiln version', () => {
    const base = spdxDocument(V3, META);
    for (const other of [
      spdxDocument(V3, { ...META, commit: 'ffffffffffffffffffffffffffffffffffffffff' }),
      spdxDocument(V3, { ...META, toolVersion: '0.1.1' }),
    ]) {
      expect(other.documentNamespace).not.toBe(base.documentNamespace);
      const { documentNamespace: _, creationInfo: __, ...rest } = other;
      const { documentNamespace: ___, creationInfo: ____, ...baseRest } = base;
      expect(rest).toEqual(baseRest);
    }
  });
});

describe('SPDXIDs', () => {
  const idsOf = (components: Component[]) => {
    const doc = spdxDocument(graphOf(components), META);
    expect(() => validateSpdx(doc)).not.toThrow();
    const ids = doc.packages.map((p) => p.SPDXID);
    for (const id of ids) expect(id).toMatch(ID_RE);
    expect(new Set(ids).size).toBe(ids.length);
    return new Map(doc.packages.map((p) => [purlOf(doc, p.SPDXID), p.SPDXID]));
  };

  it('turns scoped names and characters outside [A-Za-z0-9.-] into readable ids', () => {
    const ids = idsOf([
      component('@scope/pkg', 'pkg:npm/%40scope/pkg@1.0.0'),
      component('caf\u00e9_x+y', 'pkg:npm/caf%C3%A9_x%2By@1.0.0', { version: '1.0.0+build.5' }),
    ]);
    expect(ids.get('pkg:npm/%40scope/pkg@1.0.0')).toBe('SPDXRef-npm-scope-pkg-1.0.0');
    expect(ids.get('pkg:npm/caf%C3%A9_x%2By@1.0.0')).toBe('SPDXRef-npm-caf-x-y-1.0.0-build.5');
  });

  it('tells apart names that collide after sanitising, whatever their order', () => {
    const scoped = component('@scope/pkg', 'pkg:npm/%40scope/pkg@1.0.0');
    const plain = component('scope-pkg', 'pkg:npm/scope-pkg@1.0.0');
    const ids = idsOf([scoped, plain]);
    expect(ids.get(scoped.ref)).toBe(`SPDXRef-npm-scope-pkg-1.0.0-${sha256Hex(scoped.ref).slice(0, 8)}`);
    expect(ids.get(plain.ref)).toBe(`SPDXRef-npm-scope-pkg-1.0.0-${sha256Hex(plain.ref).slice(0, 8)}`);
    expect(idsOf([plain, scoped])).toEqual(ids);
  });

  it('tells apart two packages with the same name and version from different places', () => {
    const registry = component('dup', 'pkg:npm/dup@1.0.0');
    const git = component('dup', 'pkg:npm/dup@1.0.0?vcs_url=git%2Bhttps%3A%2F%2Fexample.com%2Fdup.git');
    const ids = idsOf([registry, git]);
    expect(ids.get(registry.ref)).not.toBe(ids.get(git.ref));
  });

  it('stays unique when a name spells out another package’s disambiguated id', () => {
    const a = component('@x/y', 'pkg:npm/%40x/y@1');
    const b = component('x-y', 'pkg:npm/x-y@1');
    const impostor = `x-y-1-${sha256Hex(a.ref).slice(0, 8)}`;
    idsOf([
      { ...a, version: '1' },
      { ...b, version: '1' },
      component(impostor, `pkg:npm/${impostor}`, { version: '' }),
    ]);
  });

  it('gives one package to one name@version installed at several lockfile paths', () => {
    const doc = spdxDocument(V3, META);
    // debug@2.6.9 and ms@2.0.0 (also under the alias ms-old) are installed at several paths; the graph merges them.
    expect(doc.packages.filter((p) => p.name === 'debug' && p.versionInfo === '2.6.9')).toHaveLength(1);
    expect(doc.packages.filter((p) => p.name === 'ms' && p.versionInfo === '2.0.0')).toHaveLength(1);
  });

  it('never gives a component the project’s id, even with the same name and version', () => {
    const self = component('kiln-fixture-app', 'pkg:npm/kiln-fixture-app@1.0.0');
    idsOf([self]);
  });
});
