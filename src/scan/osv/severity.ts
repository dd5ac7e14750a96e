// One severity per OSV record: the highest CVSS version it carries, scored; else the database's own rating.
import { isRecord } from '../../core/json.js';
import { parseSeverityLevel, SEVERITY_RANK, type SeverityLevel, scoreCvss } from '../cvss/score.js';
import type { OsvAffected, OsvRecord, OsvSeverity } from './types.js';

/** A finding's severity, and where it came from (a CVSS vector, or a database's rating word). */
export interface FindingSeverity {
  readonly level: SeverityLevel | 'unknown';
  readonly score?: number;
  readonly vector?: string;
  /** `CVSS_V3`, `CVSS_V4`, `database_specific` …; 'none' when the record rates nothing. */
  readonly source: string;
}

const CVSS_PREFERENCE = ['CVSS_V4', 'CVSS_V3', 'CVSS_V2'];

/**
 * The severity of a record for one affected package: CVSS vectors on the package, then on the record (newest CVSS
 * version first), then a rating word in `database_specific.severity` (GitHub's LOW/MODERATE/HIGH/CRITICAL) or
 * `ecosystem_specific.severity`. Unknown when none of these is there or parses.
 */
export function recordSeverity(record: OsvRecord, affected: OsvAffected | undefined): FindingSeverity {
  for (const list of [affected?.severity, record.severity]) {
    const scored = bestCvss(list ?? []);
    if (scored) return scored;
  }
  const words: [string, unknown][] = [
    ['database_specific', affected?.database_specific?.severity],
    ['ecosystem_specific', affected?.ecosystem_specific?.severity],
    ['database_specific', isRecord(record.database_specific) ? record.database_specific.severity : undefined],
  ];
  for (const [source, word] of words) {
    const level = typeof word === 'string' ? parseSeverityLevel(word) : undefined;
    if (level) return { level, source };
  }
  return { level: 'unknown', source: 'none' };
}

function bestCvss(list: readonly OsvSeverity[]): FindingSeverity | undefined {
  for (const type of CVSS_PREFERENCE) {
    for (const s of list) {
      if (s.type !== type) continue;
      const scored = scoreCvss(s.score);
      if (scored) return { level: scored.level, score: scored.score, vector: s.score, source: type };
    }
  }
  return undefined;
}

/** Orders severities, unknown lowest (it never reaches a threshold: the policy says what to do with it). */
export function severityRank(level: FindingSeverity['level']): number {
  return level === 'unknown' ? -1 : SEVERITY_RANK[level];
}
