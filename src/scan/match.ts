// Components × OSV records → findings: one per vulnerability (aliases merged) per component, with its path.
import { deepFreeze } from '../core/json.js';
import { coordinatesOfPurl, type PackageCoordinates, packageKey } from '../ecosystems/ecosystem.js';
import { type BomComponent, type BomGraph, dependencyPaths } from './bom-components.js';
import { affectsVersion } from './osv/affected.js';
import { type FindingSeverity, recordSeverity, severityRank } from './osv/severity.js';
import type { OsvRecord } from './osv/types.js';

/** One vulnerability in one component. */
export interface Finding {
  /** The vulnerability's id: a matched record's own id (a CVE id only when no other database has one). */
  readonly id: string;
  /** Every other id of the same vulnerability (record ids and their aliases), sorted. */
  readonly aliases: readonly string[];
  readonly summary: string;
  readonly severity: FindingSeverity;
  readonly component: Pick<BomComponent, 'ref' | 'name' | 'version' | 'purl' | 'scope'>;
  /** `name@version` from a direct dependency of the root down to the component. */
  readonly path: readonly string[];
  /** Versions that fix it (the lowest fix above this version in each range), sorted. */
  readonly fixedIn: readonly string[];
  /** The records that matched, sorted. */
  readonly records: readonly string[];
}

/** Findings sorted by severity (highest first), then id and component; and what could not be checked. */
export interface ScanResult {
  readonly findings: readonly Finding[];
  /** Components checked against the data (those with an OSV ecosystem and a version). */
  readonly checked: number;
  /** Why something could not be decided (a range Kiln cannot order …), one line each, deduplicated. */
  readonly notes: readonly string[];
}

/** The packages to look up for a graph: each component's OSV coordinates (components without any are skipped). */
export function scanTargets(graph: BomGraph): { component: BomComponent; coords: PackageCoordinates }[] {
  return graph.components.flatMap((component) => {
    const coords = coordinatesOfPurl(component.purl);
    return coords && coords.version !== '' ? [{ component, coords }] : [];
  });
}

/** Matches every component against the records stored for its package (`recordsFor`), withdrawn ones skipped. */
export function matchVulnerabilities(
  graph: BomGraph,
  recordsFor: (coords: PackageCoordinates) => readonly OsvRecord[],
  targets: ReturnType<typeof scanTargets> = scanTargets(graph),
): ScanResult {
  const names = new Map(graph.components.map((c) => [c.ref, `${c.name}@${c.version}`]));
  const paths = dependencyPaths(graph);
  const notes = new Set<string>();
  const findings: Finding[] = [];
  for (const { component, coords } of targets) {
    const hits: Hit[] = [];
    for (const record of recordsFor(coords)) {
      if (record.withdrawn) continue;
      for (const entry of record.affected ?? []) {
        const pkg = entry.package;
        if (!pkg || pkg.ecosystem !== coords.ecosystem || packageKey(pkg.ecosystem, pkg.name) !== coords.name) continue;
        const answer = affectsVersion(entry, coords.ecosystem, coords.version);
        for (const why of answer.unordered) notes.add(`${record.id} for ${component.name}: ${why}`);
        if (answer.affected) hits.push({ record, severity: recordSeverity(record, entry), fixedIn: answer.fixedIn });
      }
    }
    const path = (paths.get(component.ref) ?? [component.ref]).map((ref) => names.get(ref) ?? ref);
    for (const group of aliasGroups(hits)) findings.push(findingOf(group, component, path));
  }
  findings.sort(
    (a, b) =>
      severityRank(b.severity.level) - severityRank(a.severity.level) ||
      cmp(a.id, b.id) ||
      cmp(a.component.ref, b.component.ref),
  );
  return deepFreeze({ findings, checked: targets.length, notes: [...notes].sort() });
}

type Hit = { record: OsvRecord; severity: FindingSeverity; fixedIn: readonly string[] };

/** Hits whose records share an id or alias, transitively, are one vulnerability. */
function aliasGroups(hits: readonly Hit[]): Hit[][] {
  const groups: { ids: Set<string>; hits: Hit[] }[] = [];
  for (const hit of hits) {
    const ids = new Set([hit.record.id, ...(hit.record.aliases ?? [])]);
    const joined = groups.filter((g) => [...ids].some((id) => g.ids.has(id)));
    const merged = { ids, hits: [hit] };
    for (const g of joined) {
      for (const id of g.ids) merged.ids.add(id);
      merged.hits.push(...g.hits);
      groups.splice(groups.indexOf(g), 1);
    }
    groups.push(merged);
  }
  return groups.map((g) => g.hits);
}

function findingOf(hits: Hit[], component: BomComponent, path: readonly string[]): Finding {
  const recordIds = [...new Set(hits.map((h) => h.record.id))].sort(preferredId);
  const id = recordIds[0] ?? '';
  const ids = new Set(hits.flatMap((h) => [h.record.id, ...(h.record.aliases ?? [])]));
  ids.delete(id);
  const main = hits.find((h) => h.record.id === id)?.record;
  const severity = hits
    .map((h) => h.severity)
    .reduce((a, b) => (severityRank(b.level) > severityRank(a.level) ? b : a));
  return {
    id,
    aliases: [...ids].sort(),
    summary: main?.summary ?? main?.details?.split('\n')[0] ?? '',
    severity,
    component: {
      ref: component.ref,
      name: component.name,
      version: component.version,
      purl: component.purl,
      scope: component.scope,
    },
    path,
    fixedIn: [...new Set(hits.flatMap((h) => h.fixedIn))].sort(),
    records: recordIds.slice().sort(),
  };
}

/** Database ids (GHSA-, PYSEC-, GO-, RUSTSEC- …) before CVE ids, which are what they alias; then by text. */
function preferredId(a: string, b: string): number {
  const cve = (id: string) => (id.startsWith('CVE-') ? 1 : 0);
  return cve(a) - cve(b) || cmp(a, b);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
