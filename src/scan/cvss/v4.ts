// CVSS v4.0 scoring: MacroVector lookup plus severity-distance interpolation, step for step as FIRST's calculator.
import { CVSS4_MACROVECTOR_SCORES, CVSS4_MAX_COMPOSED, CVSS4_MAX_SEVERITY } from './v4-lookup.js';
import { type CvssGrammar, parseCvssMetrics } from './vector.js';

const LMH = ['N', 'L', 'H'];
const X_HML = ['X', 'H', 'M', 'L'];
const X_HLN = ['X', 'H', 'L', 'N'];
const X_SHLN = ['X', 'S', 'H', 'L', 'N'];
const V4_GRAMMAR: CvssGrammar = {
  mandatory: ['AV', 'AC', 'AT', 'PR', 'UI', 'VC', 'VI', 'VA', 'SC', 'SI', 'SA'],
  values: {
    AV: ['N', 'A', 'L', 'P'],
    AC: ['L', 'H'],
    AT: ['N', 'P'],
    PR: LMH,
    UI: ['N', 'P', 'A'],
    VC: LMH,
    VI: LMH,
    VA: LMH,
    SC: LMH,
    SI: LMH,
    SA: LMH,
    E: ['X', 'A', 'P', 'U'],
    CR: X_HML,
    IR: X_HML,
    AR: X_HML,
    MAV: ['X', 'N', 'A', 'L', 'P'],
    MAC: ['X', 'L', 'H'],
    MAT: ['X', 'N', 'P'],
    MPR: ['X', 'N', 'L', 'H'],
    MUI: ['X', 'N', 'P', 'A'],
    MVC: X_HLN,
    MVI: X_HLN,
    MVA: X_HLN,
    MSC: X_HLN,
    MSI: X_SHLN,
    MSA: X_SHLN,
    // Supplemental metrics never change the score.
    S: ['X', 'N', 'P'],
    AU: ['X', 'N', 'Y'],
    R: ['X', 'A', 'U', 'I'],
    V: ['X', 'D', 'C'],
    RE: ['X', 'L', 'M', 'H'],
    U: ['X', 'Clear', 'Green', 'Amber', 'Red'],
  },
};

/** Each metric value's severity rank (0 = most severe), in the 0.1 steps the interpolation measures distance in. */
const LEVELS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  AV: { N: 0.0, A: 0.1, L: 0.2, P: 0.3 },
  PR: { N: 0.0, L: 0.1, H: 0.2 },
  UI: { N: 0.0, P: 0.1, A: 0.2 },
  AC: { L: 0.0, H: 0.1 },
  AT: { N: 0.0, P: 0.1 },
  VC: { H: 0.0, L: 0.1, N: 0.2 },
  VI: { H: 0.0, L: 0.1, N: 0.2 },
  VA: { H: 0.0, L: 0.1, N: 0.2 },
  SC: { H: 0.1, L: 0.2, N: 0.3 },
  SI: { S: 0.0, H: 0.1, L: 0.2, N: 0.3 },
  SA: { S: 0.0, H: 0.1, L: 0.2, N: 0.3 },
  CR: { H: 0.0, M: 0.1, L: 0.2 },
  IR: { H: 0.0, M: 0.1, L: 0.2 },
  AR: { H: 0.0, M: 0.1, L: 0.2 },
};

type Metrics = ReadonlyMap<string, string>;

/** The value scoring uses: a modified metric (MAV…) overrides its base one; unset E is A, unset CR/IR/AR are H. */
function effective(metrics: Metrics, name: string): string {
  const selected = metrics.get(name) ?? 'X';
  if (selected === 'X' && name === 'E') return 'A';
  if (selected === 'X' && (name === 'CR' || name === 'IR' || name === 'AR')) return 'H';
  const modified = metrics.get(`M${name}`);
  return modified !== undefined && modified !== 'X' ? modified : selected;
}

/** The EQ1…EQ6 levels of a vector (spec section 8.2, Table 24). */
function macroVector(metrics: Metrics): readonly [number, number, number, number, number, number] {
  const is = (name: string, value: string): boolean => effective(metrics, name) === value;
  const eq1 =
    is('AV', 'N') && is('PR', 'N') && is('UI', 'N')
      ? 0
      : (is('AV', 'N') || is('PR', 'N') || is('UI', 'N')) && !is('AV', 'P')
        ? 1
        : 2;
  const eq2 = is('AC', 'L') && is('AT', 'N') ? 0 : 1;
  const eq3 = is('VC', 'H') && is('VI', 'H') ? 0 : is('VC', 'H') || is('VI', 'H') || is('VA', 'H') ? 1 : 2;
  const eq4 = is('MSI', 'S') || is('MSA', 'S') ? 0 : is('SC', 'H') || is('SI', 'H') || is('SA', 'H') ? 1 : 2;
  const eq5 = is('E', 'A') ? 0 : is('E', 'P') ? 1 : 2;
  const eq6 =
    (is('CR', 'H') && is('VC', 'H')) || (is('IR', 'H') && is('VI', 'H')) || (is('AR', 'H') && is('VA', 'H')) ? 0 : 1;
  return [eq1, eq2, eq3, eq4, eq5, eq6];
}

/** The score of a MacroVector, NaN when the table has none (the next-lower MacroVector may not exist). */
function lookup(levels: readonly number[]): number {
  return CVSS4_MACROVECTOR_SCORES[levels.join('')] ?? Number.NaN;
}

/** Per metric, how far the vector is below the first highest-severity vector of its MacroVector it does not exceed. */
function severityDistances(metrics: Metrics, eq: readonly number[]): ReadonlyMap<string, number> {
  const [e1, e2, e3, e4, e5, e6] = eq.map(String);
  const pick = (table: Readonly<Record<string, readonly string[]>> | undefined, level: string | undefined) =>
    table?.[level ?? ''] ?? [];
  const composed: string[] = [];
  for (const a of pick(CVSS4_MAX_COMPOSED.eq1, e1))
    for (const b of pick(CVSS4_MAX_COMPOSED.eq2, e2))
      for (const c of pick(CVSS4_MAX_COMPOSED.eq3[e3 ?? ''], e6))
        for (const d of pick(CVSS4_MAX_COMPOSED.eq4, e4))
          for (const e of pick(CVSS4_MAX_COMPOSED.eq5, e5)) composed.push(a + b + c + d + e);
  let distances = new Map<string, number>();
  for (const max of composed) {
    const maxValues = new Map(max.split('/').map((part) => part.split(':') as [string, string]));
    distances = new Map(
      Object.entries(LEVELS).map(([name, ranks]) => {
        const mine = ranks[effective(metrics, name)] ?? Number.NaN;
        return [name, mine - (ranks[maxValues.get(name) ?? ''] ?? Number.NaN)];
      }),
    );
    if ([...distances.values()].every((d) => d >= 0)) break; // else the reference keeps the last one
  }
  return distances;
}

/** The v4.0 score of a vector body (after `CVSS:4.0/`), or undefined when it is not a valid v4.0 vector. */
export function scoreCvssV4(body: string): number | undefined {
  const metrics = parseCvssMetrics(body, V4_GRAMMAR);
  if (metrics === undefined) return undefined;
  if (['VC', 'VI', 'VA', 'SC', 'SI', 'SA'].every((name) => effective(metrics, name) === 'N')) return 0;
  const eq = macroVector(metrics);
  const [e1, e2, e3, e4, e5, e6] = eq;
  const value = lookup(eq);
  // The next lower MacroVector per EQ; EQ3 and EQ6 move together, and from 00 the higher of the two neighbours counts.
  const eq3eq6Lower =
    e3 === 0 && e6 === 0
      ? Math.max(lookup([e1, e2, e3, e4, e5, e6 + 1]), lookup([e1, e2, e3 + 1, e4, e5, e6]))
      : e3 === 1 && e6 === 0
        ? lookup([e1, e2, e3, e4, e5, e6 + 1])
        : e3 === 2
          ? Number.NaN
          : lookup([e1, e2, e3 + 1, e4, e5, e6]);
  const d = severityDistances(metrics, eq);
  const at = (name: string): number => d.get(name) ?? 0;
  const step = 0.1;
  // [available distance to the next lower MacroVector, the vector's distance, the MacroVector's depth] per EQ.
  const parts: readonly (readonly [number, number, number])[] = [
    [
      value - lookup([e1 + 1, e2, e3, e4, e5, e6]),
      at('AV') + at('PR') + at('UI'),
      (CVSS4_MAX_SEVERITY.eq1[e1] ?? 1) * step,
    ],
    [value - lookup([e1, e2 + 1, e3, e4, e5, e6]), at('AC') + at('AT'), (CVSS4_MAX_SEVERITY.eq2[e2] ?? 1) * step],
    [
      value - eq3eq6Lower,
      at('VC') + at('VI') + at('VA') + at('CR') + at('IR') + at('AR'),
      (CVSS4_MAX_SEVERITY.eq3eq6[e3]?.[e6] ?? 1) * step,
    ],
    [
      value - lookup([e1, e2, e3, e4 + 1, e5, e6]),
      at('SC') + at('SI') + at('SA'),
      (CVSS4_MAX_SEVERITY.eq4[e4] ?? 1) * step,
    ],
    [value - lookup([e1, e2, e3, e4, e5 + 1, e6]), 0, 1], // EQ5's proportion is always 0
  ];
  let existing = 0;
  let sum = 0;
  for (const [available, distance, depth] of parts) {
    if (Number.isNaN(available)) continue;
    existing++;
    sum += available * (distance / depth);
  }
  const score = Math.min(10, Math.max(0, value - (existing === 0 ? 0 : sum / existing)));
  // Round half up; the 1e-6 lift (upstream since Nov 2024) stops 8.549999… standing in for 8.55 from rounding down.
  return Math.round((score + 1e-6) * 10) / 10;
}
