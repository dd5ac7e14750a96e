// CVSS v3.0 and v3.1 base scores, as FIRST's specifications define them (v3.1 section 7.1 and Appendix A).
import { type CvssGrammar, metric, parseCvssMetrics } from './vector.js';

const CIA = ['H', 'L', 'N'];
const REQUIREMENT = ['X', 'H', 'M', 'L'];
const MODIFIED_CIA = ['X', 'H', 'L', 'N'];
const V3_GRAMMAR: CvssGrammar = {
  mandatory: ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'],
  values: {
    AV: ['N', 'A', 'L', 'P'],
    AC: ['L', 'H'],
    PR: ['N', 'L', 'H'],
    UI: ['N', 'R'],
    S: ['U', 'C'],
    C: CIA,
    I: CIA,
    A: CIA,
    // Temporal and environmental metrics: validated, then left out of the base score.
    E: ['X', 'H', 'F', 'P', 'U'],
    RL: ['X', 'U', 'W', 'T', 'O'],
    RC: ['X', 'C', 'R', 'U'],
    CR: REQUIREMENT,
    IR: REQUIREMENT,
    AR: REQUIREMENT,
    MAV: ['X', 'N', 'A', 'L', 'P'],
    MAC: ['X', 'L', 'H'],
    MPR: ['X', 'N', 'L', 'H'],
    MUI: ['X', 'N', 'R'],
    MS: ['X', 'U', 'C'],
    MC: MODIFIED_CIA,
    MI: MODIFIED_CIA,
    MA: MODIFIED_CIA,
  },
};

const AV: Readonly<Record<string, number>> = { N: 0.85, A: 0.62, L: 0.55, P: 0.2 };
const AC: Readonly<Record<string, number>> = { L: 0.77, H: 0.44 };
const PR_UNCHANGED: Readonly<Record<string, number>> = { N: 0.85, L: 0.62, H: 0.27 };
const PR_CHANGED: Readonly<Record<string, number>> = { N: 0.85, L: 0.68, H: 0.5 };
const UI: Readonly<Record<string, number>> = { N: 0.85, R: 0.62 };
const IMPACT: Readonly<Record<string, number>> = { H: 0.56, L: 0.22, N: 0 };

/**
 * "Round up": the smallest one-decimal number ≥ input. v3.1's Roundup (Appendix A) works on integers so float error
 * (4.000000000000001 for 4.0) cannot add a tenth; v3.0's was a plain ceiling, which it can.
 */
export function cvssV3RoundUp(input: number, version: '3.0' | '3.1'): number {
  if (version === '3.0') return Math.ceil(input * 10) / 10;
  const intInput = Math.round(input * 100000);
  return intInput % 10000 === 0 ? intInput / 100000 : (Math.floor(intInput / 10000) + 1) / 10;
}

/**
 * The base score of a v3 vector body (after `CVSS:3.x/`), or undefined when it is not valid. Temporal and
 * environmental metrics must be well-formed but do not change the result: this is the base score only.
 */
export function scoreCvssV3(body: string, version: '3.0' | '3.1'): number | undefined {
  const metrics = parseCvssMetrics(body, V3_GRAMMAR);
  if (metrics === undefined) return undefined;
  const weight = (table: Readonly<Record<string, number>>, name: string): number => table[metric(metrics, name)] ?? 0;
  const changed = metric(metrics, 'S') === 'C';
  const iss = 1 - (1 - weight(IMPACT, 'C')) * (1 - weight(IMPACT, 'I')) * (1 - weight(IMPACT, 'A'));
  const impact = changed ? 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 : 6.42 * iss;
  const pr = weight(changed ? PR_CHANGED : PR_UNCHANGED, 'PR');
  const exploitability = 8.22 * weight(AV, 'AV') * weight(AC, 'AC') * pr * weight(UI, 'UI');
  if (impact <= 0) return 0;
  return cvssV3RoundUp(Math.min((changed ? 1.08 : 1) * (impact + exploitability), 10), version);
}
