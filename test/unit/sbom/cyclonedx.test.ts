import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isKilnError } from '../../../src/core/errors.js';
import { bomRefs } from '../../../src/sbom/formats/cyclonedx/document.js';
import { cycloneDxDocument, readNpmLockfile, serializeBom, validateCycloneDx } from '../../../src/sbom/index.js';

const V3 = readFileSync(new URL('../../fixtures/sbom/npm-app-v3/package-lock.json', import.meta.url), 'utf8');
const META = {
  commit: '3f2a0c1d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f',
  sourceDateEpoch: 1700000000,
  toolName: 'kiln',
  toolVersion: '0.1.0',
};

describe('cycloneDxDocument', () => {
  const graph = readNpmLockfile(V3, 'package-lock.json');
  const bom = cycloneDxDocument(graph, META);
  const component = (ref: string) => bom.components.find((c) => c['bom-ref'] === ref);

  it('produces a document the official CycloneDX 1.6 schema accepts', () => {
    expect(() => validateCycloneDx(bom)).not.toThrow();
    expect(bom).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1 });
  });

  it('matches the golden file byte for byte', async () => {
    await expect(serializeBom(bom).toString('utf8')).toMatchFileSnapshot('../../fixtures/sbom/npm-app-v3/bom.cdx.json');
  });

  it('describes the tool and the root project from its inputs only', () => {
    expect(bom.metadata).toEqual({
      timestamp: '2023-11-14T22:13:20Z',
      tools: { components: [{ type: 'application', name: 'kiln', version: '0.1.0' }] },
      component: {
        type: 'application',
        'bom-ref': 'pkg:npm/kiln-fixture-app@1.0.0',
        name: 'kiln-fixture-app',
        version: '1.0.0',
        purl: 'pkg:npm/kiln-fixture-app@1.0.0',
      },
    });
  });

  it('splits scoped names into group and name, and maps scopes like cyclonedx-npm', () => {
    expect(component('pkg:npm/@types/debug@4.1.12')).toEqual({
      type: 'library',
      'bom-ref': 'pkg:npm/@types/debug@4.1.12',
      group: '@types',
      name: 'debug',
      version: '4.1.12',
      purl: 'pkg:npm/%40types/debug@4.1.12',
      scope: 'required',
      hashes: [
        {
          alg: 'SHA-512',
          content:
            'bc80a159d546dcb1b548cc44bc8fc02be15626d865aea953bbb7dbae5cb04e491a38dc24fd40066942d74657fcbe4cc504b566d3390c742aae84be5a3a38573d',
        },
      ],
      licenses: [{ expression: 'MIT', acknowledgement: 'declared' }],
    });
    expect(component('pkg:npm/kind-of@6.0.3')).toMatchObject({
      scope: 'excluded',
      properties: [{ name: 'cdx:npm:package:development', value: 'true' }],
    });
    expect(component('pkg:npm/is-odd@3.0.1')?.scope).toBe('optional');
    expect(component('pkg:npm/is-odd@3.0.1')?.properties).toBeUndefined();
  });

  it('lists one dependency entry per component plus the root, all sorted', () => {
    expect(bom.dependencies).toHaveLength(graph.components.length + 1);
    const refs = bom.dependencies.map((d) => d.ref);
    expect(refs).toEqual([...refs].sort());
    const root = bom.dependencies.find((d) => d.ref === graph.root.ref);
    const direct = graph.components.filter((c) => c.direct).map((c) => decodeURIComponent(c.ref));
    expect(root?.dependsOn).toEqual(direct.sort());
    expect(bom.dependencies.find((d) => d.ref === 'pkg:npm/connect@3.7.0')?.dependsOn).toEqual([
      'pkg:npm/debug@2.6.9',
      'pkg:npm/finalhandler@1.1.2',
      'pkg:npm/parseurl@1.3.3',
      'pkg:npm/utils-merge@1.0.1',
    ]);
  });

  it('is deterministic: same inputs, same bytes; a new commit changes only the serial number', () => {
    const again = serializeBom(cycloneDxDocument(readNpmLockfile(V3, 'package-lock.json'), { ...META }));
    expect(again.equals(serializeBom(bom))).toBe(true);
    const other = cycloneDxDocument(graph, { ...META, commit: 'ffffffffffffffffffffffffffffffffffffffff' });
    expect(other.serialNumber).not.toBe(bom.serialNumber);
    expect({ ...other, serialNumber: bom.serialNumber }).toEqual(bom);
  });

  it('writes an RFC 4122-shaped serial number', () => {
    expect(bom.serialNumber).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('serializes canonically: sorted keys, two-space indent, trailing newline', () => {
    const text = serializeBom(bom).toString('utf8');
    expect(text.startsWith('{\n  "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",\n  "bomFormat"')).toBe(
      true,
    );
    expect(text.endsWith('}\n')).toBe(true);
    expect(Object.keys(JSON.parse(text))).toEqual([...Object.keys(bom)].sort());
  });

  it('returns a document with its outline frozen', () => {
    expect(Object.isFrozen(bom)).toBe(true);
    expect(Object.isFrozen(bom.metadata)).toBe(true);
    expect(Object.isFrozen(bom.components)).toBe(true);
    expect(Object.isFrozen(bom.dependencies)).toBe(true);
  });

  it('refuses a sourceDateEpoch that is not whole seconds in range', () => {
    for (const sourceDateEpoch of [-1, 1.5, Number.NaN, 1e15]) {
      let err: unknown;
      try {
        cycloneDxDocument(graph, { ...META, sourceDateEpoch });
      } catch (e) {
        err = e;
      }
      expect(isKilnError(err, 'KILN_USAGE')).toBe(true);
    }
  });

  it('writes free-text licenses as names and omits unknown versions', () => {
    const base = graph.components[0];
    if (base === undefined) throw new Error('empty graph');
    const odd = {
      ...base,
      ref: 'pkg:npm/odd',
      purl: 'pkg:npm/odd',
      name: 'odd',
      version: '',
      hashes: [],
      dependsOn: [],
      license: 'SEE LICENSE IN LICENSE.md',
    };
    const doc = cycloneDxDocument({ ...graph, components: [odd] }, META);
    expect(doc.components[0]).toMatchObject({
      name: 'odd',
      licenses: [{ license: { name: 'SEE LICENSE IN LICENSE.md', acknowledgement: 'declared' } }],
    });
    expect(doc.components[0]).not.toHaveProperty('version');
    expect(() => validateCycloneDx(doc)).not.toThrow();
  });

  it('rejects a graph with edges to components it does not contain', () => {
    const [first] = graph.components;
    if (first === undefined) throw new Error('empty graph');
    const broken = { ...graph, components: [{ ...first, dependsOn: ['pkg:npm/ghost@1.0.0'] }] };
    expect(() => cycloneDxDocument(broken, META)).toThrow(/edges to unknown components: .* → pkg:npm\/ghost@1\.0\.0/);
  });
});

describe('bom-refs', () => {
  const graph = readNpmLockfile(V3, 'package-lock.json');
  const bom = cycloneDxDocument(graph, META);
  const refs = [
    bom.metadata.component['bom-ref'],
    ...bom.components.map((c) => c['bom-ref']),
    ...bom.dependencies.flatMap((d) => [d.ref, ...d.dependsOn]),
  ];

  it('are purls as written, without the percent-escapes that validators such as cdxgen reject', () => {
    expect(bom.components.find((c) => c.name === 'debug' && c.group === '@types')?.['bom-ref']).toBe(
      'pkg:npm/@types/debug@4.1.12',
    );
    // cdxgen's validateRefs refuses a dependency ref holding %40, %3A or %2F.
    expect(refs.filter((ref) => ref === undefined || /%(40|3A|2F)/i.test(ref))).toEqual([]);
    expect(bom.components.map((c) => c.purl)).toContain('pkg:npm/%40types/debug@4.1.12'); // purls stay canonical
  });

  it('are unique, and every dependency ref names a component or the root', () => {
    const declared = [bom.metadata.component, ...bom.components].map((c) => c['bom-ref']);
    expect(new Set(declared).size).toBe(declared.length);
    expect(refs.filter((ref) => !declared.includes(ref))).toEqual([]);
  });

  it('tell apart purls that decode alike, whatever their order', () => {
    const purls = ['pkg:npm/a%2Fb@1.0.0', 'pkg:npm/a/b@1.0.0', 'pkg:npm/c@1.0.0', 'pkg:npm/d@1%25'];
    const refs = bomRefs(purls);
    expect(refs.get('pkg:npm/c@1.0.0')).toBe('pkg:npm/c@1.0.0');
    expect(refs.get('pkg:npm/a/b@1.0.0')).toMatch(/^pkg:npm\/a\/b@1\.0\.0\|[0-9a-f]{12}$/);
    expect(refs.get('pkg:npm/a%2Fb@1.0.0')).toMatch(/^pkg:npm\/a\/b@1\.0\.0\|[0-9a-f]{12}$/);
    expect(refs.get('pkg:npm/d@1%25')).toMatch(/^pkg:npm\/d@1%\|[0-9a-f]{12}$/); // a % left after decoding
    expect(new Set(refs.values()).size).toBe(purls.length);
    expect(bomRefs([...purls].reverse())).toEqual(refs);
  });
});
