// ComponentGraph → SPDX 2.3 JSON document: a pure function, so the same lockfile and commit give the same bytes.
import { sha256Hex } from '../../../core/digest.js';
import { canonicalJson, freezeOutline } from '../../../core/json.js';
import { isSpdxExpression } from '../../../license/declared.js';
import { buildToolsDigest, type ResolvedBuildTool, resolveBuildTools } from '../../build-tools.js';
import {
  type Component,
  type ComponentGraph,
  checkGraphEdges,
  compareStrings,
  type HashAlg,
  sbomTimestamp,
} from '../../graph.js';
import type { CycloneDxMeta } from '../cyclonedx/document.js';

/** The same inputs the CycloneDX writer takes (commit, SOURCE_DATE_EPOCH, tool, build tools), so one meta serves both. */
export type SpdxMeta = CycloneDxMeta;

/** A checksum of a package archive (SPDX 2.3 §7.10), hex. */
export interface SpdxChecksum {
  readonly algorithm: 'SHA512' | 'SHA384' | 'SHA256' | 'SHA1';
  readonly checksumValue: string;
}

/** One SPDX package: the project itself or a build tool (APPLICATION), or one component of its graph (LIBRARY). */
export interface SpdxPackage {
  readonly SPDXID: string;
  readonly name: string;
  readonly versionInfo?: string;
  readonly downloadLocation: 'NOASSERTION';
  readonly filesAnalyzed: false;
  readonly primaryPackagePurpose: 'APPLICATION' | 'LIBRARY';
  readonly externalRefs?: readonly {
    readonly referenceCategory: 'PACKAGE-MANAGER';
    readonly referenceType: 'purl';
    readonly referenceLocator: string;
  }[];
  readonly checksums?: readonly SpdxChecksum[];
  readonly licenseConcluded: 'NOASSERTION';
  readonly licenseDeclared: string;
  readonly copyrightText: 'NOASSERTION';
}

/** The SPDX 2.3 relationship types Kiln writes (§11). */
export type SpdxRelationshipType =
  | 'DESCRIBES'
  | 'DEPENDS_ON'
  | 'DEV_DEPENDENCY_OF'
  | 'OPTIONAL_DEPENDENCY_OF'
  | 'BUILD_TOOL_OF';

/** `spdxElementId <relationshipType> relatedSpdxElement`. */
export interface SpdxRelationship {
  readonly spdxElementId: string;
  readonly relationshipType: SpdxRelationshipType;
  readonly relatedSpdxElement: string;
}

/** An SPDX 2.3 document as Kiln produces it; its outline is frozen. */
export interface SpdxDocument {
  readonly spdxVersion: 'SPDX-2.3';
  readonly dataLicense: 'CC0-1.0';
  readonly SPDXID: 'SPDXRef-DOCUMENT';
  readonly name: string;
  readonly documentNamespace: string;
  readonly creationInfo: { readonly created: string; readonly creators: readonly string[] };
  readonly packages: readonly SpdxPackage[];
  readonly relationships: readonly SpdxRelationship[];
}

const DOCUMENT_ID = 'SPDXRef-DOCUMENT';
const ALGORITHMS: Readonly<Record<HashAlg, SpdxChecksum['algorithm']>> = {
  'SHA-512': 'SHA512',
  'SHA-384': 'SHA384',
  'SHA-256': 'SHA256',
  'SHA-1': 'SHA1',
};

/** Builds the SPDX 2.3 document for `graph` (outline frozen); packages and relationships are sorted, so output is content-only. */
export function spdxDocument(graph: ComponentGraph, meta: SpdxMeta): SpdxDocument {
  checkGraphEdges(graph);
  const tools = resolveBuildTools(meta.buildTools);
  // Input order is moot: ids depend on the set of components, and packages and relationships are sorted below.
  // Tools' keys start with `kiln-build-tool\n`, never a purl, so they are told apart from components like any clash.
  const { root, components } = graph;
  const [rootId = '', ...ids] = uniqueSpdxIds([
    { key: `kiln-root\n${root.ref}`, base: baseId('Project', root.name, root.version) },
    ...components.map((c) => ({ key: c.ref, base: baseId(purlType(c.ref), c.name, c.version) })),
    ...tools.map((t) => ({ key: `kiln-build-tool\n${t.name}`, base: baseId('BuildTool', t.name, t.version) })),
  ]);
  const idOf = new Map(components.map((c, i) => [c.ref, ids[i] ?? '']));
  const toolIds = ids.slice(components.length);
  const rootPackage = spdxPackage(rootId, root.name, root.version, root.ref, 'APPLICATION', [], 'NOASSERTION');
  const packages = components.map((c) =>
    spdxPackage(
      idOf.get(c.ref) ?? '',
      c.name,
      c.version,
      c.purl,
      'LIBRARY',
      c.hashes.map((h) => checksumOf(h.alg, h.hex)),
      licenseDeclaredOf(c.license),
    ),
  );
  const relationships: SpdxRelationship[] = [relation(DOCUMENT_ID, 'DESCRIBES', rootId)];
  for (const c of components) {
    const id = idOf.get(c.ref) ?? '';
    if (c.direct) relationships.push(rootEdge(rootId, c, id));
    for (const d of c.dependsOn) relationships.push(relation(id, 'DEPENDS_ON', idOf.get(d) ?? ''));
  }
  const toolPackages = tools.map((t, i) => buildToolPackage(toolIds[i] ?? '', t));
  for (const p of toolPackages) relationships.push(relation(p.SPDXID, 'BUILD_TOOL_OF', rootId));
  return freezeOutline(
    {
      spdxVersion: 'SPDX-2.3',
      dataLicense: 'CC0-1.0',
      SPDXID: DOCUMENT_ID,
      name: root.version === '' ? root.name : `${root.name}@${root.version}`,
      documentNamespace: `https://kiln.dev/spdx/${encodeURIComponent(root.name)}/${sha256Hex(
        // The tools count only when there are some, so documents without them keep their namespace.
        ['kiln/spdx-namespace', root.ref, graph.lockfile.digest, meta.commit, meta.toolName, meta.toolVersion]
          .concat(tools.length === 0 ? [] : [buildToolsDigest(tools)])
          .join('\n'),
      )}`,
      creationInfo: {
        created: sbomTimestamp(meta.sourceDateEpoch),
        creators: [`Tool: ${meta.toolName}-${meta.toolVersion}`],
      },
      packages: [rootPackage, ...packages, ...toolPackages].sort((a, b) => compareStrings(a.SPDXID, b.SPDXID)),
      relationships: relationships.sort(
        (a, b) =>
          compareStrings(a.spdxElementId, b.spdxElementId) ||
          compareStrings(a.relationshipType, b.relationshipType) ||
          compareStrings(a.relatedSpdxElement, b.relatedSpdxElement),
      ),
    },
    3,
  );
}

/** Canonical bytes of an SPDX document: sorted keys, 2-space indent, trailing newline. Same document → same bytes. */
export function serializeSpdx(doc: SpdxDocument): Buffer {
  return Buffer.from(`${canonicalJson(doc, 2)}\n`, 'utf8');
}

/**
 * One valid SPDXID per element, in order. Each starts as its readable base; every id shared by two elements (or equal
 * to SPDXRef-DOCUMENT) gets `-<sha256(key) prefix>`, lengthened until all differ (distinct keys differ at 64 hex).
 * Ids depend on the set of elements only, never on their order.
 */
export function uniqueSpdxIds(elements: readonly { readonly key: string; readonly base: string }[]): string[] {
  const ids = elements.map((e) => e.base);
  for (let len = 8; ; len = Math.min(64, len * 2)) {
    const counts = new Map<string, number>([[DOCUMENT_ID, 1]]);
    for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    let clashed = false;
    ids.forEach((id, i) => {
      const e = elements[i];
      if ((counts.get(id) ?? 0) < 2 || e === undefined) return;
      clashed = true;
      ids[i] = `${e.base}-${sha256Hex(e.key).slice(0, len)}`;
    });
    if (!clashed) return ids;
  }
}

/** `SPDXRef-<kind>-<name>-<version>` with every run of characters outside [A-Za-z0-9.-] (and npm's `@`) made `-`. */
function baseId(kind: string, name: string, version: string): string {
  const text = [kind, name.replace(/^@/, ''), version].filter((part) => part !== '').join('-');
  return `SPDXRef-${text.replace(/[^A-Za-z0-9.-]+/g, '-')}`;
}

function purlType(ref: string): string {
  return /^pkg:([A-Za-z0-9.+-]+)\//.exec(ref)?.[1] ?? 'Package';
}

/**
 * One package, its keys in sorted order as serializeSpdx writes them (canonicalJson then keeps it as it is instead of
 * copying it, which matters with 100k packages). Checksums and the purl (when `purl` is one) are left out when absent.
 */
function spdxPackage(
  SPDXID: string,
  name: string,
  version: string,
  purl: string,
  primaryPackagePurpose: SpdxPackage['primaryPackagePurpose'],
  checksums: readonly SpdxChecksum[],
  licenseDeclared: string,
): SpdxPackage {
  return {
    SPDXID,
    ...(checksums.length === 0 ? {} : { checksums }),
    copyrightText: 'NOASSERTION',
    // The graph does not carry the lockfile's `resolved` URL yet, so where the archive came from is not asserted.
    downloadLocation: 'NOASSERTION',
    ...(purl.startsWith('pkg:')
      ? { externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceLocator: purl, referenceType: 'purl' }] }
      : {}),
    filesAnalyzed: false,
    licenseConcluded: 'NOASSERTION',
    licenseDeclared,
    name,
    primaryPackagePurpose,
    ...(version === '' ? {} : { versionInfo: version }),
  };
}

/** A tool that built the project (related to it by BUILD_TOOL_OF): its version, binary sha256 and purl, no license. */
function buildToolPackage(SPDXID: string, t: ResolvedBuildTool): SpdxPackage {
  const checksums = t.sha256 === undefined ? [] : [checksumOf('SHA-256', t.sha256)];
  return spdxPackage(SPDXID, t.name, t.version, t.purl ?? '', 'APPLICATION', checksums, 'NOASSERTION');
}

function checksumOf(alg: HashAlg, hex: string): SpdxChecksum {
  return { algorithm: ALGORITHMS[alg], checksumValue: hex };
}

/**
 * The declared license when it is an SPDX expression this document can stand behind: LicenseRef-/DocumentRef- ids
 * would need extracted-license entries Kiln cannot write, so they and free text become NOASSERTION.
 */
function licenseDeclaredOf(license: string | undefined): string {
  if (license === undefined || !isSpdxExpression(license) || /(?:LicenseRef|DocumentRef)-/.test(license)) {
    return 'NOASSERTION';
  }
  return license;
}

/**
 * The project's edge to a direct dependency, typed as SPDX 2.3 §11.1 specifies: DEPENDS_ON (project → dependency)
 * for run-time ones, DEV_DEPENDENCY_OF and OPTIONAL_DEPENDENCY_OF (dependency → project) for the others. Transitive
 * edges are all DEPENDS_ON: npm installs only the root's (and workspaces') dev dependencies, and the graph keeps a
 * scope per component, not per edge, so whether a subtree is dev or optional is said once, at the root's edge.
 */
function rootEdge(rootId: string, c: Component, id: string): SpdxRelationship {
  switch (c.scope) {
    case 'runtime':
      return relation(rootId, 'DEPENDS_ON', id);
    case 'dev':
      return relation(id, 'DEV_DEPENDENCY_OF', rootId);
    case 'optional':
      return relation(id, 'OPTIONAL_DEPENDENCY_OF', rootId);
  }
}

function relation(from: string, type: SpdxRelationshipType, to: string): SpdxRelationship {
  return { relatedSpdxElement: to, relationshipType: type, spdxElementId: from }; // keys in order, as for packages
}
