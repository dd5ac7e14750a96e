// ComponentGraph → CycloneDX 1.6 document: a pure function, so the same lockfile and commit give the same bytes.
import { sha256Hex } from '../../../core/digest.js';
import { KilnError } from '../../../core/errors.js';
import { canonicalJson, deepFreeze } from '../../../core/json.js';
import { purlNamespaceAndName } from '../../../ecosystems/purl.js';
import { isSpdxExpression } from '../../../license/declared.js';
import { type BuildTool, buildToolsDigest, type ResolvedBuildTool, resolveBuildTools } from '../../build-tools.js';
import {
  type Component,
  type ComponentGraph,
  type ComponentScope,
  checkGraphEdges,
  compareStrings,
  sbomTimestamp,
} from '../../graph.js';
import type {
  CycloneDxBom,
  CycloneDxComponent,
  CycloneDxDependency,
  CycloneDxFormula,
  CycloneDxLicenses,
  CycloneDxScope,
} from './types.js';

/** What the document says about its own making; none of it comes from a clock or the environment. */
export interface CycloneDxMeta {
  readonly commit: string;
  /** Seconds since 1970 (reproducible-builds.org SOURCE_DATE_EPOCH); becomes metadata.timestamp. */
  readonly sourceDateEpoch: number;
  readonly toolName: string;
  readonly toolVersion: string;
  /** What built the artifact (not shipped in it); absent or [] leaves the document as it is without them. */
  readonly buildTools?: readonly BuildTool[] | undefined;
}

const SCOPES: Readonly<Record<ComponentScope, CycloneDxScope>> = {
  runtime: 'required',
  optional: 'optional',
  dev: 'excluded',
};

/** Builds the frozen CycloneDX 1.6 BOM for `graph`; every array is sorted, so output depends on content only. */
export function cycloneDxDocument(graph: ComponentGraph, meta: CycloneDxMeta): CycloneDxBom {
  checkGraphEdges(graph);
  const tools = resolveBuildTools(meta.buildTools);
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
    serialNumber: serialNumberFor(graph.lockfile.digest, meta.commit, buildToolsDigest(tools)),
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
    ...(tools.length === 0 ? {} : { formulation: [formulaOf(graph, tools)] }),
  });
}

/** Canonical bytes of a BOM: sorted keys, 2-space indent, trailing newline. Same BOM → same bytes. */
export function serializeBom(bom: CycloneDxBom): Buffer {
  return Buffer.from(`${canonicalJson(bom, 2)}\n`, 'utf8');
}

/**
 * `urn:uuid:` from sha256(lockfile digest, commit[, build tools digest]): stable for one input, different for another
 * (the tools count only when there are some, so serials of documents without them stay as they were). The hash bytes
 * are shaped as an RFC 4122 name-based UUID (version 5 nibble, RFC variant), like v5 but over SHA-256.
 */
export function serialNumberFor(lockfileDigest: string, commit: string, buildToolsDigest = ''): string {
  const input = `kiln/cyclonedx-serial\n${lockfileDigest}\n${commit}${buildToolsDigest === '' ? '' : `\n${buildToolsDigest}`}`;
  const bytes = Buffer.from(sha256Hex(input), 'hex').subarray(0, 16);
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

/** Prefix of build tools' bom-refs: runtime refs are purls (`pkg:…`), so these never name a runtime component. */
const BUILD_TOOL_REF = 'kiln:build-tool:';

/**
 * The build tools as the one formula's components (CycloneDX 1.6 `formulation`: how the artifact was made). Each also
 * carries `kiln:build-time` = `true` and scope `excluded`, for readers that flatten every component into one list.
 */
function formulaOf(graph: ComponentGraph, tools: readonly ResolvedBuildTool[]): CycloneDxFormula {
  const runtimeRefs = new Set([graph.root.ref, ...graph.components.map((c) => c.ref)]);
  const clash = tools.map((t) => `${BUILD_TOOL_REF}${t.name}`).filter((ref) => runtimeRefs.has(ref));
  if (clash.length > 0) {
    throw new KilnError(
      'KILN_SBOM_INVALID',
      `build tool bom-refs ${clash.join(', ')} are also runtime component refs`,
      {
        hint: 'This is a bug in the lockfile reader (component refs must be purls); please report it with the lockfile.',
      },
    );
  }
  return { components: tools.map(buildToolComponentOf) };
}

function buildToolComponentOf(t: ResolvedBuildTool): CycloneDxComponent {
  return {
    type: 'application',
    'bom-ref': `${BUILD_TOOL_REF}${t.name}`,
    name: t.name,
    ...(t.version === '' ? {} : { version: t.version }),
    ...(t.purl === undefined ? {} : { purl: t.purl }),
    scope: 'excluded',
    ...(t.sha256 === undefined ? {} : { hashes: [{ alg: 'SHA-256', content: t.sha256 }] }),
    properties: [{ name: 'kiln:build-time', value: 'true' }],
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
