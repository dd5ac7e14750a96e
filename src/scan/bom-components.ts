// What a scan needs from a CycloneDX SBOM (Kiln's own, from a build or the store): components, licenses, edges.
import { KilnError } from '../core/errors.js';
import { isRecord } from '../core/json.js';

/** One component of the SBOM as the scan sees it. */
export interface BomComponent {
  readonly ref: string;
  /** Full name (npm: `@scope/name`). */
  readonly name: string;
  readonly version: string;
  readonly purl: string;
  /** CycloneDX scope: `required`, `optional` or `excluded` (dev); '' when absent. */
  readonly scope: string;
  /** The declared license expression, or undefined when the SBOM records none. */
  readonly license: string | undefined;
}

/** The components, the root and the dependency edges of one SBOM. */
export interface BomGraph {
  /** The project; `purl` is '' when the SBOM gives none. */
  readonly root: { readonly ref: string; readonly name: string; readonly version: string; readonly purl: string };
  readonly components: readonly BomComponent[];
  readonly dependsOn: ReadonlyMap<string, readonly string[]>;
}

/** Reads the parts of a CycloneDX 1.x JSON document a scan uses; `where` names the document in errors. */
export function bomGraph(bom: unknown, where: string): BomGraph {
  const invalid = (what: string) =>
    new KilnError('KILN_SBOM_INVALID', `${where} is not a CycloneDX JSON SBOM: ${what}`, {
      hint: 'Kiln scans CycloneDX JSON SBOMs (the .cdx.json it delivers beside each artifact); check the file was not replaced',
    });
  if (!isRecord(bom) || bom.bomFormat !== 'CycloneDX') throw invalid('bomFormat is not "CycloneDX"');
  const meta = isRecord(bom.metadata) && isRecord(bom.metadata.component) ? bom.metadata.component : {};
  const root = {
    ref: text(meta['bom-ref']) || 'root',
    name: text(meta.name) || 'root',
    version: text(meta.version),
    purl: text(meta.purl),
  };
  const components: BomComponent[] = [];
  const list = Array.isArray(bom.components) ? bom.components : [];
  for (const [i, c] of list.entries()) {
    if (!isRecord(c)) throw invalid(`components[${i}] is not an object`);
    const name = text(c.name);
    const group = text(c.group);
    components.push({
      ref: text(c['bom-ref']) || text(c.purl) || `components[${i}]`,
      name: group && !name.startsWith(`${group}/`) ? `${group}/${name}` : name,
      version: text(c.version),
      purl: text(c.purl),
      scope: text(c.scope),
      license: licenseOf(c.licenses),
    });
  }
  const dependsOn = new Map<string, string[]>();
  for (const d of Array.isArray(bom.dependencies) ? bom.dependencies : []) {
    if (!isRecord(d) || typeof d.ref !== 'string') continue;
    dependsOn.set(d.ref, Array.isArray(d.dependsOn) ? d.dependsOn.filter((x) => typeof x === 'string') : []);
  }
  return { root, components, dependsOn };
}

/** The license expression of a CycloneDX `licenses` array: an expression, or ids/names joined with AND. */
function licenseOf(licenses: unknown): string | undefined {
  if (!Array.isArray(licenses) || licenses.length === 0) return undefined;
  const parts: string[] = [];
  for (const entry of licenses) {
    if (!isRecord(entry)) continue;
    if (typeof entry.expression === 'string') parts.push(entry.expression);
    else if (isRecord(entry.license)) {
      const id = text(entry.license.id) || text(entry.license.name);
      if (id) parts.push(id);
    }
  }
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : parts.map((p) => (/\s/.test(p) ? `(${p})` : p)).join(' AND ');
}

/** Shortest dependency path from the root to each component, as refs (root excluded), by breadth-first search. */
export function dependencyPaths(graph: BomGraph): Map<string, readonly string[]> {
  const known = new Set(graph.components.map((c) => c.ref));
  const paths = new Map<string, readonly string[]>();
  let frontier: string[] = [];
  for (const ref of graph.dependsOn.get(graph.root.ref) ?? []) {
    if (known.has(ref) && !paths.has(ref)) {
      paths.set(ref, [ref]);
      frontier.push(ref);
    }
  }
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const ref of frontier) {
      const here = paths.get(ref) ?? [];
      for (const dep of graph.dependsOn.get(ref) ?? []) {
        if (!known.has(dep) || paths.has(dep)) continue;
        paths.set(dep, [...here, dep]);
        next.push(dep);
      }
    }
    frontier = next;
  }
  // A component nothing reaches (an SBOM without edges, as from go.sum) is its own path.
  for (const ref of known) if (!paths.has(ref)) paths.set(ref, [ref]);
  return paths;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
