// Severity from CVSS vectors, so findings from OSV (CVSS_V2/V3/V4 strings) can be ranked and gated by one scale.
import { scoreCvssV2 } from './v2.js';
import { scoreCvssV3 } from './v3.js';
import { scoreCvssV4 } from './v4.js';

/** Qualitative severity, lowest to highest. */
export type SeverityLevel = 'none' | 'low' | 'medium' | 'high' | 'critical';

/** A CVSS vector scored. */
export interface CvssScore {
  readonly version: '2.0' | '3.0' | '3.1' | '4.0';
  readonly vector: string;
  /** 0.0–10.0, one decimal. */
  readonly score: number;
  readonly level: SeverityLevel;
}

/** Rank for comparing levels (none 0 … critical 4). */
export const SEVERITY_RANK: Readonly<Record<SeverityLevel, number>> = Object.freeze({
  none: 0,
  low: 1,
  medium: 2,
  high: 3,
  critical: 4,
});

/** Qualitative rating of a score (v3/v4 table: 0 none, 0.1-3.9 low, 4.0-6.9 medium, 7.0-8.9 high, 9.0-10 critical). */
export function severityOfScore(score: number): SeverityLevel {
  if (!(score > 0)) return 'none'; // also NaN and negatives
  if (score < 4) return 'low';
  if (score < 7) return 'medium';
  return score < 9 ? 'high' : 'critical';
}

/** NVD's ratings for v2 scores, which have no "none" or "critical": 0-3.9 low, 4.0-6.9 medium, 7.0-10 high. */
function severityOfV2Score(score: number): SeverityLevel {
  if (score < 4) return 'low';
  return score < 7 ? 'medium' : 'high';
}

/** Parses a level name case-insensitively, accepting GitHub's 'moderate' as medium; undefined otherwise. */
export function parseSeverityLevel(text: string): SeverityLevel | undefined {
  const name = text.trim().toLowerCase();
  if (name === 'moderate') return 'medium';
  return Object.hasOwn(SEVERITY_RANK, name) ? (name as SeverityLevel) : undefined;
}

/**
 * Scores a CVSS vector: `CVSS:4.0/…`, `CVSS:3.1/…`, `CVSS:3.0/…`, or a v2 vector, prefix-less as v2 defines it and
 * OSV's CVSS_V2 gives it (`AV:N/AC:L/Au:N/…`), or with the `CVSS:2.0/` some tools add. Metrics may come in any order.
 * Undefined when it is not a valid vector: unknown version, a mandatory metric missing, a metric repeated or unknown,
 * a value outside the metric's list, or anything else (whitespace, an empty part) in the string.
 *
 * - v2 and v3: the base score. Temporal and environmental metrics must be well-formed but are ignored.
 * - v3.0 and v3.1 differ only in rounding (see `cvssV3RoundUp`); no base vector scores differently.
 * - v4.0 has a single formula over all metrics: the result is what FIRST's calculator shows for the vector as
 *   given, i.e. CVSS-B for a base-only vector, CVSS-BT / CVSS-BE / CVSS-BTE when threat or environmental
 *   metrics are present (`E:U` lowers the score). Supplemental metrics never change it.
 * - Levels: v3/v4 by `severityOfScore`, v2 by NVD's v2 ranges (a 0.0 v2 score is "low").
 */
export function scoreCvss(vector: string): CvssScore | undefined {
  const prefixed = /^CVSS:(\d+\.\d+)\/(.*)$/s.exec(vector);
  const version = prefixed?.[1];
  const body = prefixed?.[2] ?? '';
  let result: { version: CvssScore['version']; score: number | undefined };
  if (prefixed === null) result = { version: '2.0', score: scoreCvssV2(vector) };
  else if (version === '2.0') result = { version, score: scoreCvssV2(body) };
  else if (version === '3.0' || version === '3.1') result = { version, score: scoreCvssV3(body, version) };
  else if (version === '4.0') result = { version, score: scoreCvssV4(body) };
  else return undefined;
  const { score } = result;
  if (score === undefined) return undefined;
  const level = result.version === '2.0' ? severityOfV2Score(score) : severityOfScore(score);
  return Object.freeze({ version: result.version, vector, score, level });
}
