// The scan stage: the build's SBOM against the vulnerability data in the store, plus the VEX documents it names.
import type { PolicyConfig } from '../config/index.js';
import { KilnError } from '../core/errors.js';
import type { PackageCoordinates } from '../ecosystems/ecosystem.js';
import { lastOsvImport, osvDataState, osvRecordsFor, type Store } from '../store/index.js';
import { type BomGraph, bomGraph } from './bom-components.js';
import { matchVulnerabilities, type ScanResult, scanTargets } from './match.js';
import type { OsvRecord } from './osv/types.js';
import { parseOpenVex, type VexDocument } from './vex/openvex.js';
import type { ScanDatabase } from './vulns-predicate.js';

/** A finished scan: what it found, against which data, and the VEX statements that may waive findings. */
export interface BuildScan {
  readonly graph: BomGraph;
  readonly result: ScanResult;
  readonly database: ScanDatabase;
  readonly vex: readonly VexDocument[];
}

/** Matches an SBOM (CycloneDX JSON) against the store's OSV records, and says against which data. */
export async function scanBom(store: Store, bom: unknown, where: string): Promise<Omit<BuildScan, 'vex'>> {
  const [found, database] = await Promise.all([matchBom(store, bom, where), scanDatabase(store)]);
  return { ...found, database };
}

/** Matches an SBOM against the store's OSV records; `where` names the SBOM in errors. */
export async function matchBom(
  store: Store,
  bom: unknown,
  where: string,
): Promise<Pick<BuildScan, 'graph' | 'result'>> {
  const graph = bomGraph(bom, where);
  const targets = scanTargets(graph);
  const rows = await osvRecordsFor(
    store,
    targets.map((t) => t.coords),
  );
  const byPackage = new Map<string, OsvRecord[]>();
  const parsed = new Map<string, OsvRecord>(); // a record affecting several packages is parsed once
  for (const row of rows) {
    const record = parsed.get(row.id) ?? (JSON.parse(row.body) as OsvRecord);
    parsed.set(row.id, record);
    const key = packageKeyOf(row);
    const list = byPackage.get(key);
    if (list) list.push(record);
    else byPackage.set(key, [record]);
  }
  const result = matchVulnerabilities(graph, (coords) => byPackage.get(packageKeyOf(coords)) ?? [], targets);
  return { graph, result };
}

/** The vulnerability data as a scan names it: how many records, their revision, and when they were imported. */
export async function scanDatabase(store: Store): Promise<ScanDatabase> {
  const [state, lastUpdate] = await Promise.all([osvDataState(store), lastOsvImport(store)]);
  return { records: state.records, revision: state.revision, lastUpdate };
}

/** Reads and parses the VEX documents the policy names, from the project as committed. */
export async function readVexDocuments(
  policy: PolicyConfig,
  read: (relPath: string) => Promise<Buffer>,
): Promise<VexDocument[]> {
  const docs: VexDocument[] = [];
  for (const [i, path] of policy.vulnerabilities.vex.entries()) {
    const bytes = await read(path).catch((cause: unknown) => {
      throw new KilnError('KILN_CONFIG_INVALID', `policy.vulnerabilities.vex[${i}]: cannot read ${path}`, {
        cause,
        hint: 'commit the OpenVEX document at that path, or remove it from kiln.yaml',
      });
    });
    docs.push(parseOpenVex(bytes.toString('utf8'), path));
  }
  return docs;
}

function packageKeyOf(p: Pick<PackageCoordinates, 'ecosystem' | 'name'>): string {
  return `${p.ecosystem}\0${p.name}`;
}
