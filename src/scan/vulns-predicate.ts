// The scan as an in-toto vulns v0.2 predicate (https://github.com/in-toto/attestation/blob/main/spec/predicates/vulns_02.md).
import { deepFreeze } from '../core/json.js';
import type { Finding, ScanResult } from './match.js';

/** The vulnerability data a scan ran against: how many records, its revision, and when it last changed. */
export interface ScanDatabase {
  readonly records: number;
  readonly revision: number;
  /** When the last import ran (ISO 8601); undefined when nothing was ever imported. */
  readonly lastUpdate: string | undefined;
}

/** A finding the policy waived, keyed by `${id} ${purl}`, with why: shown as annotations, never dropped. */
export type WaivedFindings = ReadonlyMap<string, { readonly by: string; readonly reason: string }>;

/**
 * The predicate: one result per finding (id, CVSS score and level as severities), with the component, its
 * dependency path, fixes, aliases and any waiver as annotations. Empty `result` means nothing was found.
 */
export function vulnsPredicate(input: {
  kilnVersion: string;
  scan: ScanResult;
  database: ScanDatabase;
  startedOn: string;
  finishedOn: string;
  waived?: WaivedFindings;
}) {
  const { database } = input;
  return deepFreeze({
    scanner: {
      uri: 'https://kiln.dev/scanner/osv',
      version: input.kilnVersion,
      db: {
        uri: 'https://osv.dev',
        version: `kiln-store-revision-${database.revision} (${database.records} records)`,
        lastUpdate: database.lastUpdate ?? input.startedOn,
      },
      result: input.scan.findings.map((f) => resultOf(f, input.waived?.get(findingKey(f)))),
    },
    metadata: { scanStartedOn: input.startedOn, scanFinishedOn: input.finishedOn },
  });
}

/** The key waivers are looked up by. */
export function findingKey(f: Pick<Finding, 'id' | 'component'>): string {
  return `${f.id} ${f.component.purl}`;
}

function resultOf(f: Finding, waiver: { by: string; reason: string } | undefined) {
  const severity: { method: string; score: string }[] = [{ method: 'severity', score: f.severity.level }];
  if (f.severity.score !== undefined) severity.push({ method: f.severity.source, score: String(f.severity.score) });
  if (f.severity.vector) severity.push({ method: 'vector', score: f.severity.vector });
  const annotations: Record<string, unknown>[] = [
    { component: f.component.purl },
    { path: f.path.join(' > ') },
    { fixedIn: f.fixedIn.join(', ') || 'none' },
  ];
  if (f.aliases.length > 0) annotations.push({ aliases: f.aliases.join(', ') });
  if (f.summary) annotations.push({ summary: f.summary });
  if (waiver) annotations.push({ waived: `${waiver.by}: ${waiver.reason}` });
  return { id: f.id, severity, annotations };
}
