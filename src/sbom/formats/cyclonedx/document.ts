// ComponentGraph → CycloneDX 1.6 document: a pure function, so the same lockfile and commit give the same bytes.
import { sha256Hex } from '../../../core/digest.js';
import { KilnError } from '../../../core/errors.js';
import { canonicalJson, freezeOutline } from '../../../core/json.js';
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

/** Builds the CycloneDX 1.6 BOM for `graph` (its outline frozen); every array is sorted, so output depends on content only. */
export function cycloneDxDocument(graph: ComponentGraph, meta: CycloneDxMeta): CycloneDxBom {
  checkGraphEdges(graph);
  const tools = resolveBuildTools(meta.buildTools);
  const bomRef = bomRefs([graph.root.ref, ...graph.components.map((c) => c.ref)]);
  const refOf = (ref: string) => bomRef.get(ref) ?? ref;
  const components = [...graph.components].sort((a, b) => compareStrings(refOf(a.ref), refOf(b.ref)));
  // Components and dependencies are built with their keys in sorted order, as serializeBom writes them: canonicalJson
  // then keeps them as they are instead of copying them, which matters with 100k components.
  const root: CycloneDxDependency = {
    dependsOn: components.filter((c) => c.direct).map((c) => refOf(c.ref)),
    ref: refOf(graph.root.ref),
  };
  const dependencies = [
    root,
    ...components.map((c) => ({ dependsOn: c.dependsOn.map(refOf).sort(compareStrings), ref: refOf(c.ref) })),
  ];
  return freezeOutline(
    {
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
          'bom-ref': refOf(graph.root.ref),
          ...nameFields(graph.root.ref, graph.root.name),
          ...(graph.root.version === '' ? {} : { version: graph.root.version }),
          purl: graph.root.ref,
        },
      },
      components: components.map((c) => componentOf(c, refOf(c.ref))),
      dependencies: dependencies.sort((a, b) => compareStrings(a.ref, b.ref)),
      ...(tools.length === 0 ? {} : { formulation: [formulaOf(graph, tools)] }),
    },
    4,
  );
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

/**
 * bom-ref of each graph ref (a purl): the purl with its percent-escapes decoded (`pkg:npm/@types/debug@4.1.12`), which
 * the schema allows (any non-empty string) and which validators that reject encoded refs (cdxgen: `%40`, `%3A`,
 * `%2F`) accept, as cyclonedx-npm's refs (`@types/debug@4.1.12`) are unencoded too. Two purls that decode alike, or a
 * decoded ref that still holds a `%`, get `|` and 12 hex of the purl's sha256, lengthened while any two are equal:
 * refs stay unique, and depend on the set of purls only, never on their order.
 */
export function bomRefs(refs: readonly string[]): ReadonlyMap<string, string> {
  const decoded = refs.map(decodePurl);
  const counts = new Map<string, number>();
  for (const d of decoded) counts.set(d, (counts.get(d) ?? 0) + 1);
  const out = new Map<string, string>();
  for (let len = 12; ; len = Math.min(64, len * 2)) {
    const seen = new Map<string, number>();
    refs.forEach((ref, i) => {
      const d = decoded[i] ?? ref;
      const clash = (counts.get(d) ?? 0) > 1 || d.includes('%');
      out.set(ref, clash ? `${d}|${sha256Hex(ref).slice(0, len)}` : d);
    });
    for (const r of out.values()) seen.set(r, (seen.get(r) ?? 0) + 1);
    if ([...seen.values()].every((n) => n === 1) || len === 64) return out;
  }
}

function decodePurl(purl: string): string {
  try {
    return decodeURIComponent(purl);
  } catch {
    return purl; // a malformed escape: kept as written, and suffixed like any ref that still holds a `%`
  }
}

function componentOf(c: Component, bomRef: string): CycloneDxComponent {
  const npm = c.purl.startsWith('pkg:npm/');
  const { group, name } = nameFields(c.purl, c.name);
  return {
    'bom-ref': bomRef,
    ...(group === undefined ? {} : { group }),
    ...(c.hashes.length === 0 ? {} : { hashes: c.hashes.map((h) => ({ alg: h.alg, content: h.hex })) }),
    ...(c.license === undefined ? {} : { licenses: licensesOf(c.license) }),
    name,
    ...(c.scope === 'dev' && npm ? { properties: [{ name: 'cdx:npm:package:development', value: 'true' }] } : {}),
    purl: c.purl,
    scope: SCOPES[c.scope],
    type: 'library',
    ...(c.version === '' ? {} : { version: c.version }),
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
    ? [{ acknowledgement: 'declared', expression: license }]
    : [{ license: { acknowledgement: 'declared', name: license } }];
}
