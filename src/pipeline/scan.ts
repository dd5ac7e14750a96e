// The scan stage: the build's SBOM against the vulnerability data in the store, plus the VEX documents it names.
import type { PolicyConfig } from '../config/index.js';
import { KilnError } from '../core/errors.js';
import { type BomGraph, bomGraph } from '../scan/bom-components.js';
import type { PackageCoordinates } from '../scan/ecosystem.js';
import { matchVulnerabilities, type ScanResult, scanTargets } from '../scan/match.js';
import { parseOpenVex, type VexDocument } from '../scan/openvex.js';
import type { OsvRecord } from '../scan/osv-types.js';
import type { ScanDatabase } from '../scan/vulns-predicate.js';
import { lastOsvImport, osvDataState, osvRecordsFor, type Store } from '../store/index.js';

/** A finished scan: what it found, against which data, and the VEX statements that may waive findings. */
export interface BuildScan {
  readonly graph: BomGraph;
  readonly result: ScanResult;
  readonly database: ScanDatabase;
  readonly vex: readonly VexDocument[];
}

/** Matches an SBOM (CycloneDX JSON) against the store's OSV records; `where` names the SBOM in errors. */
export async function scanBom(store: Store, bom: unknown, where: string): Promise<Omit<BuildScan, 'vex'>> {
  const graph = bomGraph(bom, where);
  const targets = scanTargets(graph);
  const [rows, state, last] = await Promise.all([
    osvRecordsFor(
      store,
      targets.map((t) => t.coords),
    ),
    osvDataState(store),
    lastOsvImport(store),
  ]);
  const byPackage = new Map<string, OsvRecord[]>();
  const parsed = new Map<string, OsvRecord>();
  for (const row of rows) {
    const key = packageKeyOf(row);
    const record = parsed.get(row.body) ?? (JSON.parse(row.body) as OsvRecord);
    parsed.set(row.body, record);
    byPackage.set(key, [...(byPackage.get(key) ?? []), record]);
  }
  const result = matchVulnerabilities(graph, (coords) => byPackage.get(packageKeyOf(coords)) ?? []);
  return { graph, result, database: { records: state.records, revision: state.revision, lastUpdate: last } };
}

/** Reads and parses the VEX documents the policy names, from the project as committed. */
export async function readVexDocuments(
  policy: PolicyConfig,
  read: (relPath: string) => Promise<Buffer>,
): Promise<VexDocument[]> {
  const docs: VexDocument[] = [];
  for (const [i, path] of policy.vulnerabilities.vex.entries()) {
    const bytes = await read(path).catch((cause: unknown) => {
      throw new KilnError('E_CONFIG_INVALID', `policy.vulnerabilities.vex[${i}]: cannot read ${path}`, {
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
