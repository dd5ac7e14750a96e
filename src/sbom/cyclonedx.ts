// ComponentGraph → CycloneDX 1.6 document: a pure function, so the same lockfile and commit give the same bytes.
import { sha256Hex } from '../core/digest.js';
import { canonicalJson, deepFreeze } from '../core/json.js';
import type {
  CycloneDxBom,
  CycloneDxComponent,
  CycloneDxDependency,
  CycloneDxLicenses,
  CycloneDxScope,
} from './cyclonedx-types.js';
import {
  type Component,
  type ComponentGraph,
  type ComponentScope,
  checkGraphEdges,
  compareStrings,
  sbomTimestamp,
} from './graph.js';
import { purlNamespaceAndName } from './purl.js';
import { isSpdxExpression } from './spdx-expression.js';

/** What the document says about its own making; none of it comes from a clock or the environment. */
export interface CycloneDxMeta {
  readonly commit: string;
  /** Seconds since 1970 (reproducible-builds.org SOURCE_DATE_EPOCH); becomes metadata.timestamp. */
  readonly sourceDateEpoch: number;
  readonly toolName: string;
  readonly toolVersion: string;
}

const SCOPES: Readonly<Record<ComponentScope, CycloneDxScope>> = {
  runtime: 'required',
  optional: 'optional',
  dev: 'excluded',
};

/** Builds the frozen CycloneDX 1.6 BOM for `graph`; every array is sorted, so output depends on content only. */
export function cycloneDxDocument(graph: ComponentGraph, meta: CycloneDxMeta): CycloneDxBom {
  checkGraphEdges(graph);
  const components = [...graph.components].sort((a, b) => compareStrings(a.ref, b.ref));
  const root: CycloneDxDependency = {
    ref: graph.root.ref,
    dependsOn: components.filter((c) => c.direct).map((c) => c.ref),
  };
  const dependencies = [
    root,
    ...components.map((c) => ({ ref: c.ref, dependsOn: [...c.dependsOn].sort(compareStrings) })),
  ];
  return deepFreeze({
    $schema: 'http://cyclonedx.org/schema/bom-1.6.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: serialNumberFor(graph.lockfile.digest, meta.commit),
    version: 1,
    metadata: {
      timestamp: sbomTimestamp(meta.sourceDateEpoch),
      tools: { components: [{ type: 'application', name: meta.toolName, version: meta.toolVersion }] },
      component: {
        type: 'application',
        'bom-ref': graph.root.ref,
        ...nameFields(graph.root.ref, graph.root.name),
        ...(graph.root.version === '' ? {} : { version: graph.root.version }),
        purl: graph.root.ref,
      },
    },
    components: components.map(componentOf),
    dependencies: dependencies.sort((a, b) => compareStrings(a.ref, b.ref)),
  });
}

/** Canonical bytes of a BOM: sorted keys, 2-space indent, trailing newline. Same BOM → same bytes. */
export function serializeBom(bom: CycloneDxBom): Buffer {
  return Buffer.from(`${canonicalJson(bom, 2)}\n`, 'utf8');
}

/**
 * `urn:uuid:` from sha256(lockfile digest, commit): stable for one input, different for another. The hash bytes are
 * shaped as an RFC 4122 name-based UUID (version 5 nibble, RFC variant), like v5 but over SHA-256.
 */
export function serialNumberFor(lockfileDigest: string, commit: string): string {
  const bytes = Buffer.from(sha256Hex(`kiln/cyclonedx-serial\n${lockfileDigest}\n${commit}`), 'hex').subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function componentOf(c: Component): CycloneDxComponent {
  const npm = c.purl.startsWith('pkg:npm/');
  return {
    type: 'library',
    'bom-ref': c.ref,
    ...nameFields(c.purl, c.name),
    ...(c.version === '' ? {} : { version: c.version }),
    purl: c.purl,
    scope: SCOPES[c.scope],
    ...(c.hashes.length === 0 ? {} : { hashes: c.hashes.map((h) => ({ alg: h.alg, content: h.hex })) }),
    ...(c.license === undefined ? {} : { licenses: licensesOf(c.license) }),
    ...(c.scope === 'dev' && npm ? { properties: [{ name: 'cdx:npm:package:development', value: 'true' }] } : {}),
  };
}

/** group = purl namespace (npm scope `@scope`), name = the rest, as cyclonedx-npm writes them. */
function nameFields(purl: string, fallbackName: string): { group?: string; name: string } {
  if (!purl.startsWith('pkg:')) return { name: fallbackName };
  const { namespace, name } = purlNamespaceAndName(purl);
  return namespace === undefined ? { name } : { group: namespace, name };
}

function licensesOf(license: string): CycloneDxLicenses {
  return isSpdxExpression(license)
    ? [{ expression: license, acknowledgement: 'declared' }]
    : [{ license: { name: license, acknowledgement: 'declared' } }];
}
