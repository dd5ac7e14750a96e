import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/core/digest.js';
import { isKilnError } from '../../../src/core/errors.js';
import {
  type BuildTool,
  buildToolPurl,
  type ComponentGraph,
  type CycloneDxComponent,
  cycloneDxDocument,
  readNpmLockfile,
  type SpdxDocument,
  serializeBom,
  serializeSpdx,
  spdxDocument,
  validateCycloneDx,
  validateSpdx,
} from '../../../src/sbom/index.js';

const fixture = (rel: string) => readFileSync(new URL(`../../fixtures/sbom/npm-app-v3/${rel}`, import.meta.url));
const V3 = readNpmLockfile(fixture('package-lock.json').toString('utf8'), 'package-lock.json');
const EMPTY: ComponentGraph = {
  root: { name: 'hello', version: '0.0.0', ref: 'pkg:generic/hello' },
  components: [],
  lockfile: { path: '', digest: `sha256:${sha256Hex('')}` },
};
const META = {
  commit: '3f2a0c1d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f',
  sourceDateEpoch: 1700000000,
  toolName: 'kiln',
  toolVersion: '0.1.0',
};
const bin = (name: string) => sha256Hex(`binary of ${name}`);
// As the builder reports them: unsorted, one without a version.
const TOOLS: readonly BuildTool[] = [
  { name: 'npm', version: '10.8.2', sha256: bin('npm') },
  { name: 'node', version: 'v20.20.2', sha256: bin('node') },
  { name: 'sh', sha256: bin('sh') },
  { name: 'kiln-builder-bubblewrap', version: '0.1.0', sha256: bin('builder') },
  { name: 'git', version: '2.43.0', sha256: bin('git') },
];
const NAMES = TOOLS.map((t) => t.name).sort();

const formulaComponents = (bom: ReturnType<typeof cycloneDxDocument>): readonly CycloneDxComponent[] =>
  bom.formulation?.flatMap((f) => f.components) ?? [];
const toolIds = (doc: SpdxDocument) =>
  new Set(doc.relationships.filter((r) => r.relationshipType === 'BUILD_TOOL_OF').map((r) => r.spdxElementId));

describe('buildToolPurl', () => {
  it('uses pkg:npm for npm, pkg:generic with the version verbatim for the rest, none without a version', () => {
    expect(buildToolPurl({ name: 'node', version: 'v20.20.2' })).toBe('pkg:generic/node@v20.20.2');
    expect(buildToolPurl({ name: 'npm', version: '10.8.2' })).toBe('pkg:npm/npm@10.8.2');
    expect(buildToolPurl({ name: 'bash', version: '5.2.21(1)-release' })).toBe(
      'pkg:generic/bash@5.2.21%281%29-release',
    );
    expect(buildToolPurl({ name: 'sh' })).toBeUndefined();
    expect(buildToolPurl({ name: 'sh', version: '' })).toBeUndefined();
    expect(buildToolPurl({ name: 'git', version: '2.43.0', purl: 'pkg:deb/debian/git@2.43.0' })).toBe(
      'pkg:deb/debian/git@2.43.0',
    );
  });
});

describe.each([
  ['the npm-app-v3 lockfile', V3],
  ['a project without a lockfile', EMPTY],
])('CycloneDX build tools for %s', (_name, graph) => {
  const plain = cycloneDxDocument(graph, META);
  const bom = cycloneDxDocument(graph, { ...META, buildTools: TOOLS });

  it('stays valid CycloneDX 1.6', () => {
    expect(() => validateCycloneDx(bom)).not.toThrow();
  });

  it('lists each tool exactly once, sorted, in one formula, as a build-time application with version and sha256', () => {
    expect(bom.formulation).toHaveLength(1);
    expect(formulaComponents(bom).map((c) => c.name)).toEqual(NAMES);
    for (const c of formulaComponents(bom)) {
      expect(c).toMatchObject({ type: 'application', scope: 'excluded' });
      expect(c.properties).toEqual([{ name: 'kiln:build-time', value: 'true' }]);
      expect(c.hashes).toEqual([
        { alg: 'SHA-256', content: bin(c.name === 'kiln-builder-bubblewrap' ? 'builder' : c.name) },
      ]);
    }
    expect(formulaComponents(bom).find((c) => c.name === 'node')).toEqual({
      type: 'application',
      'bom-ref': 'kiln:build-tool:node',
      name: 'node',
      version: 'v20.20.2',
      purl: 'pkg:generic/node@v20.20.2',
      scope: 'excluded',
      hashes: [{ alg: 'SHA-256', content: bin('node') }],
      properties: [{ name: 'kiln:build-time', value: 'true' }],
    });
    expect(formulaComponents(bom).find((c) => c.name === 'npm')).toMatchObject({ purl: 'pkg:npm/npm@10.8.2' });
    const sh = formulaComponents(bom).find((c) => c.name === 'sh');
    expect(sh).not.toHaveProperty('version');
    expect(sh).not.toHaveProperty('purl');
  });

  it('gives every element a bom-ref unique in the whole BOM', () => {
    const refs = [bom.metadata.component, ...bom.components, ...formulaComponents(bom)].map((c) => c['bom-ref']);
    expect(new Set(refs).size).toBe(refs.length);
  });

  it('leaves the runtime components, edges and metadata as they are without tools', () => {
    const { serialNumber: _, formulation: __, ...rest } = bom;
    const { serialNumber: ___, ...plainRest } = plain;
    expect(rest).toEqual(plainRest);
    expect(plain).not.toHaveProperty('formulation');
  });

  it('gives a document with other tools another serial number', () => {
    const newerNode = TOOLS.map((t) => (t.name === 'node' ? { ...t, version: 'v20.20.3' } : t));
    const serials = [plain, bom, cycloneDxDocument(graph, { ...META, buildTools: newerNode })].map(
      (b) => b.serialNumber,
    );
    expect(new Set(serials).size).toBe(3);
  });

  it('does not depend on the order of the tools', () => {
    const reversed = cycloneDxDocument(graph, { ...META, buildTools: [...TOOLS].reverse() });
    expect(serializeBom(reversed).equals(serializeBom(bom))).toBe(true);
  });

  it('writes the same bytes with no tools and with an empty list', () => {
    const none = serializeBom(cycloneDxDocument(graph, { ...META, buildTools: [] }));
    expect(none.equals(serializeBom(plain))).toBe(true);
    expect(none.equals(serializeBom(cycloneDxDocument(graph, { ...META, buildTools: undefined })))).toBe(true);
  });
});

describe.each([
  ['the npm-app-v3 lockfile', V3],
  ['a project without a lockfile', EMPTY],
])('SPDX build tools for %s', (_name, graph) => {
  const plain = spdxDocument(graph, META);
  const doc = spdxDocument(graph, { ...META, buildTools: TOOLS });
  const rootId = plain.relationships.find((r) => r.relationshipType === 'DESCRIBES')?.relatedSpdxElement;
  const toolPackages = doc.packages.filter((p) => toolIds(doc).has(p.SPDXID));

  it('stays valid SPDX 2.3', () => {
    expect(() => validateSpdx(doc)).not.toThrow();
  });

  it('adds one APPLICATION package per tool, with version, SHA256 and purl, each BUILD_TOOL_OF the root', () => {
    expect(toolPackages.map((p) => p.name).sort()).toEqual(NAMES);
    for (const name of NAMES) expect(doc.packages.filter((p) => p.name === name)).toHaveLength(1);
    expect(doc.relationships.filter((r) => r.relationshipType === 'BUILD_TOOL_OF')).toEqual(
      toolPackages.map((p) => ({
        spdxElementId: p.SPDXID,
        relationshipType: 'BUILD_TOOL_OF',
        relatedSpdxElement: rootId,
      })),
    );
    expect(doc.packages.find((p) => p.name === 'npm')).toEqual({
      SPDXID: 'SPDXRef-BuildTool-npm-10.8.2',
      name: 'npm',
      versionInfo: '10.8.2',
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      primaryPackagePurpose: 'APPLICATION',
      externalRefs: [
        { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:npm/npm@10.8.2' },
      ],
      checksums: [{ algorithm: 'SHA256', checksumValue: bin('npm') }],
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'NOASSERTION',
      copyrightText: 'NOASSERTION',
    });
    const sh = doc.packages.find((p) => p.name === 'sh');
    expect(sh).toMatchObject({ SPDXID: 'SPDXRef-BuildTool-sh', checksums: [{ algorithm: 'SHA256' }] });
    expect(sh).not.toHaveProperty('versionInfo');
    expect(sh).not.toHaveProperty('externalRefs');
  });

  it('leaves the runtime packages and relationships as they are without tools', () => {
    const ids = toolIds(doc);
    expect(doc.packages.filter((p) => !ids.has(p.SPDXID))).toEqual(plain.packages);
    expect(doc.relationships.filter((r) => r.relationshipType !== 'BUILD_TOOL_OF')).toEqual(plain.relationships);
    expect(doc.documentNamespace).not.toBe(plain.documentNamespace);
  });

  it('does not depend on the order of the tools', () => {
    const reversed = spdxDocument(graph, { ...META, buildTools: [...TOOLS].reverse() });
    expect(serializeSpdx(reversed).equals(serializeSpdx(doc))).toBe(true);
  });

  it('writes the same bytes with no tools and with an empty list', () => {
    const none = serializeSpdx(spdxDocument(graph, { ...META, buildTools: [] }));
    expect(none.equals(serializeSpdx(plain))).toBe(true);
  });
});

describe('build tools without tools', () => {
  it('leave both golden documents byte for byte as they were', () => {
    expect(serializeBom(cycloneDxDocument(V3, { ...META, buildTools: [] })).equals(fixture('bom.cdx.json'))).toBe(true);
    expect(serializeSpdx(spdxDocument(V3, { ...META, buildTools: [] })).equals(fixture('sbom.spdx.json'))).toBe(true);
  });
});

describe('build tool checks', () => {
  const problemsOf = (buildTools: readonly BuildTool[]) => {
    let err: unknown;
    try {
      cycloneDxDocument(V3, { ...META, buildTools });
    } catch (e) {
      err = e;
    }
    expect(isKilnError(err, 'KILN_USAGE')).toBe(true);
    expect(() => spdxDocument(V3, { ...META, buildTools })).toThrow(expect.objectContaining({ code: 'KILN_USAGE' }));
    return (err as { details: { problems: string[] } }).details.problems;
  };

  it('reports every bad tool: empty name, sha256 not bare lowercase hex, purl not a purl, conflicting repeats', () => {
    const problems = problemsOf([
      { name: '', sha256: bin('x') },
      { name: 'node', sha256: `sha256:${bin('node')}` },
      { name: 'git', sha256: bin('git').toUpperCase() },
      { name: 'npm', version: '10.8.2', purl: 'npm@10.8.2' },
      { name: 'sh', sha256: bin('sh') },
      { name: 'sh', sha256: bin('bash') },
    ]);
    expect(problems).toEqual([
      'buildTools[0] (""): name is empty',
      expect.stringMatching(/^buildTools\[1\] \("node"\): sha256 must be 64 lowercase hex digits, got "sha256:/),
      expect.stringMatching(/^buildTools\[2\] \("git"\): sha256 must be 64 lowercase hex digits/),
      'buildTools[3] ("npm"): purl must start with "pkg:", got "npm@10.8.2"',
      'buildTools[5] ("sh"): listed twice with different data',
    ]);
  });

  it('merges a tool listed twice with the same data', () => {
    const sh = { name: 'sh', sha256: bin('sh') };
    const bom = cycloneDxDocument(V3, { ...META, buildTools: [sh, { ...sh }] });
    expect(formulaComponents(bom).map((c) => c.name)).toEqual(['sh']);
    expect(
      spdxDocument(V3, { ...META, buildTools: [sh, { ...sh }] }).packages.filter((p) => p.name === 'sh'),
    ).toHaveLength(1);
  });

  it('keeps SPDXIDs unique when a tool’s id spells a component’s, or two tool names sanitise alike', () => {
    const impostor = {
      ref: 'pkg:BuildTool/node@v20.20.2',
      name: 'node',
      version: 'v20.20.2',
      purl: 'pkg:BuildTool/node@v20.20.2',
      scope: 'runtime' as const,
      direct: true,
      hashes: [],
      dependsOn: [],
    };
    const doc = spdxDocument(
      { ...V3, components: [impostor] },
      { ...META, buildTools: [...TOOLS, { name: 'git_lfs', version: '3.4.1' }, { name: 'git-lfs', version: '3.4.1' }] },
    );
    expect(() => validateSpdx(doc)).not.toThrow();
    const ids = doc.packages.filter((p) => ['node', 'git-lfs', 'git_lfs'].includes(p.name)).map((p) => p.SPDXID);
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(4);
    for (const id of ids) expect(id).toMatch(/^SPDXRef-BuildTool-(node-v20\.20\.2|git-lfs-3\.4\.1)-[0-9a-f]{8}$/);
    expect(toolIds(doc).size).toBe(TOOLS.length + 2);
  });
});
