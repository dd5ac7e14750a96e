// CVSS v2 base score (https://www.first.org/cvss/v2/guide, section 3.2.1); OSV's CVSS_V2 vectors carry no prefix.
import { type CvssGrammar, metric, parseCvssMetrics } from './vector.js';

const IMPACT = ['N', 'P', 'C'];
const V2_GRAMMAR: CvssGrammar = {
  mandatory: ['AV', 'AC', 'Au', 'C', 'I', 'A'],
  values: {
    AV: ['L', 'A', 'N'],
    AC: ['H', 'M', 'L'],
    Au: ['M', 'S', 'N'],
    C: IMPACT,
    I: IMPACT,
    A: IMPACT,
    // Temporal and environmental metrics (guide, section 2.4): accepted, not part of the base score.
    E: ['U', 'POC', 'F', 'H', 'ND'],
    RL: ['OF', 'TF', 'W', 'U', 'ND'],
    RC: ['UC', 'UR', 'C', 'ND'],
    CDP: ['N', 'L', 'LM', 'MH', 'H', 'ND'],
    TD: ['N', 'L', 'M', 'H', 'ND'],
    CR: ['L', 'M', 'H', 'ND'],
    IR: ['L', 'M', 'H', 'ND'],
    AR: ['L', 'M', 'H', 'ND'],
  },
};

const AV: Readonly<Record<string, number>> = { L: 0.395, A: 0.646, N: 1.0 };
const AC: Readonly<Record<string, number>> = { H: 0.35, M: 0.61, L: 0.71 };
const AU: Readonly<Record<string, number>> = { M: 0.45, S: 0.56, N: 0.704 };
const CIA: Readonly<Record<string, number>> = { N: 0, P: 0.275, C: 0.66 };

/** The v2 base score of `vector` (e.g. `AV:N/AC:L/Au:N/C:P/I:P/A:P`), or undefined when it is not a valid v2 vector. */
export function scoreCvssV2(vector: string): number | undefined {
  const metrics = parseCvssMetrics(vector, V2_GRAMMAR);
  if (metrics === undefined) return undefined;
  const weight = (table: Readonly<Record<string, number>>, name: string): number => table[metric(metrics, name)] ?? 0;
  const impact = 10.41 * (1 - (1 - weight(CIA, 'C')) * (1 - weight(CIA, 'I')) * (1 - weight(CIA, 'A')));
  const exploitability = 20 * weight(AV, 'AV') * weight(AC, 'AC') * weight(AU, 'Au');
  if (impact === 0) return 0; // f(Impact) = 0
  const base = (0.6 * impact + 0.4 * exploitability - 1.5) * 1.176;
  // round_to_1_decimal; the nudge keeps a tie such as 4.35 from rounding down on its binary approximation.
  return Math.round(base * 10 + 1e-9) / 10;
}
