import { describe, expect, it } from 'vitest';
import { parseSeverityLevel, SEVERITY_RANK, scoreCvss, severityOfScore } from '../../../src/scan/cvss/score.js';
import { cvssV3RoundUp } from '../../../src/scan/cvss/v3.js';
import { CVSS4_MACROVECTOR_SCORES } from '../../../src/scan/cvss/v4-lookup.js';

// Where the expected values come from:
// [RH31]  Red Hat's cvss library test list tests/vectors_simple31 (github.com/RedHatProductSecurity/cvss), base column.
// [RH4]   The same library's CVSS v4.0 lists: tests/vectors_simple4, vectors_security4, vectors_threat4, and the
//         assertions in tests/test_cvss4.py (github.com/RedHatProductSecurity/cvss).
// [FIRST30] FIRST's "CVSS v3.0 Examples" document (CVE-2014-0160 Heartbleed, CVE-2013-1937 phpMyAdmin XSS).
// [V2GUIDE] FIRST's CVSS v2 guide, section 3.3 worked examples (CVE-2002-0392, CVE-2003-0818, CVE-2003-0062).
// [NVD2]  NVD's CVSS v2 score for CVE-2010-2075 (UnrealIRCd backdoor): AV:N/AC:L/Au:N/C:P/I:P/A:P, 7.5 High.
// Besides these, every v2/v3.0/v3.1 base vector and all 104,976 v4.0 base vectors were compared once against the
// ae-cvss-calculator 1.0.13 npm package (plus 200,000 random full v4.0 vectors): no difference.

const score = (vector: string): number | undefined => scoreCvss(vector)?.score;

describe('scoreCvss v3.1', () => {
  it.each([
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8, 'critical'], // [RH31]
    ['CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N', 6.8, 'medium'], // given with the task; ae-cvss-calculator agrees
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 10, 'critical'], // [RH31] scope changed, capped at 10
    ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H', 9.9, 'critical'], // [RH31] PR:L weighs 0.68 when S:C
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', 6.1, 'medium'], // [RH31]
    ['CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:C/C:L/I:L/A:L', 6.6, 'medium'], // [RH31] PR:H weighs 0.5 when S:C
    ['CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:N/I:N/A:L', 4.1, 'medium'], // [RH31]
    ['CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:U/C:L/I:N/A:N', 3.5, 'low'], // [RH31]
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:N/A:N', 0, 'none'], // [RH31] no impact
  ])('%s = %s', (vector, expected, level) => {
    expect(scoreCvss(vector)).toEqual({ version: '3.1', vector, score: expected, level });
  });

  it('accepts temporal and environmental metrics in any order and still returns the base score', () => {
    // cvssrust's README, checked against FIRST's 3.1 calculator: base 6.1 (temporal 5.6).
    expect(score('CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N/E:P/RL:W/RC:C')).toBe(6.1);
    expect(score('CVSS:3.1/A:H/I:H/C:H/S:U/UI:N/PR:N/AC:L/AV:N/E:U/RL:O/RC:U/CR:L/MAV:P/MPR:H/MS:C/MC:N')).toBe(9.8);
  });
});

describe('scoreCvss v3.0', () => {
  it.each([
    ['CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', 7.5, 'high'], // [FIRST30] Heartbleed
    ['CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', 6.1, 'medium'], // [FIRST30] phpMyAdmin reflected XSS
  ])('%s = %s', (vector, expected, level) => {
    expect(scoreCvss(vector)).toEqual({ version: '3.0', vector, score: expected, level });
  });

  it('rounds up as each version defines it: v3.0 a plain ceiling, v3.1 on integers', () => {
    // Both specs: "Round up (4.02) is 4.1; and Round up (4.00) is 4.0".
    for (const version of ['3.0', '3.1'] as const) {
      expect(cvssV3RoundUp(4.02, version)).toBe(4.1);
      expect(cvssV3RoundUp(4.0, version)).toBe(4.0);
    }
    // v3.1 Appendix A: float error must not add a tenth; 0.1 + 0.2 is 0.30000000000000004 in binary.
    expect(cvssV3RoundUp(0.1 + 0.2, '3.1')).toBe(0.3);
    expect(cvssV3RoundUp(0.1 + 0.2, '3.0')).toBe(0.4);
    expect(cvssV3RoundUp(4.000000000000001, '3.1')).toBe(4.0);
    expect(cvssV3RoundUp(4.000000000000001, '3.0')).toBe(4.1);
  });
});

describe('scoreCvss v2', () => {
  it.each([
    ['AV:N/AC:L/Au:N/C:P/I:P/A:P', 7.5, 'high'], // [NVD2]
    ['AV:N/AC:L/Au:N/C:N/I:N/A:C', 7.8, 'high'], // [V2GUIDE] CVE-2002-0392
    ['AV:N/AC:L/Au:N/C:C/I:C/A:C', 10, 'high'], // [V2GUIDE] CVE-2003-0818; v2 has no "critical"
    ['AV:L/AC:H/Au:N/C:C/I:C/A:C', 6.2, 'medium'], // [V2GUIDE] CVE-2003-0062
    ['AV:N/AC:L/Au:N/C:N/I:N/A:N', 0, 'low'], // NVD's v2 table: 0.0-3.9 is Low
  ])('%s = %s', (vector, expected, level) => {
    expect(scoreCvss(vector)).toEqual({ version: '2.0', vector, score: expected, level });
  });

  it('takes temporal metrics and the CVSS:2.0/ prefix some tools add, and never returns -0', () => {
    expect(score('AV:N/AC:L/Au:N/C:P/I:P/A:P/E:POC/RL:OF/RC:C/CDP:LM/TD:H/CR:M/IR:ND/AR:H')).toBe(7.5);
    expect(scoreCvss('CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P')?.version).toBe('2.0');
    expect(Object.is(score('AV:L/AC:H/Au:M/C:N/I:N/A:N'), 0)).toBe(true);
  });
});

describe('scoreCvss v4.0', () => {
  it.each([
    // FIRST's calculator, first.org/cvss/calculator/4-0#<this vector>: 9.3 Critical.
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', 9.3, 'critical'],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:H/VA:L/SC:N/SI:H/SA:L', 9.2, 'critical'], // [RH4] vectors_simple4
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:N/SC:N/SI:L/SA:N', 6.9, 'medium'], // [RH4] vectors_simple4
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:A/VC:H/VI:H/VA:H/SC:H/SI:N/SA:H', 9.3, 'critical'], // [RH4] vectors_simple4
    ['CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:A/VC:N/VI:N/VA:N/SC:L/SI:N/SA:N', 2.1, 'low'], // [RH4] vectors_simple4
    ['CVSS:4.0/AV:N/AC:L/AT:P/PR:H/UI:A/VC:N/VI:L/VA:L/SC:L/SI:N/SA:N', 1.8, 'low'], // [RH4] vectors_simple4
    ['CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:N/VC:L/VI:L/VA:N/SC:L/SI:H/SA:H', 5.6, 'medium'], // [RH4] vectors_simple4
    ['CVSS:4.0/AV:N/AC:H/AT:N/PR:H/UI:A/VC:N/VI:N/VA:N/SC:N/SI:H/SA:N', 4.0, 'medium'], // [RH4] vectors_simple4
    ['CVSS:4.0/AV:N/AC:H/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:L/SA:N', 9.5, 'critical'], // [RH4] vectors_simple4
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N', 8.7, 'high'], // [RH4] test_cvss4.py
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N/CR:H/IR:H/AR:H', 0, 'none'], // [RH4] security4
  ])('%s = %s', (vector, expected, level) => {
    expect(scoreCvss(vector)).toEqual({ version: '4.0', vector, score: expected, level });
  });

  it.each([
    // [RH4] vectors_security4 / vectors_threat4 / test_cvss4.py: threat and environmental metrics move the score.
    ['CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/CR:H/IR:H/AR:H', 7.3],
    ['CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/CR:M/IR:M/AR:M', 5.5],
    ['CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/CR:L/IR:L/AR:L', 5.4],
    ['CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:P', 5.9],
    ['CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U', 4.1],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N/AR:L', 7.9],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N/MSI:H', 7.7],
    // Supplemental metrics never change the score ([RH4] vectors_supplemental4).
    ['CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/S:N/AU:N/R:A/V:D/RE:L/U:Clear', 7.3],
  ])('%s = %s', (vector, expected) => {
    expect(score(vector)).toBe(expected);
  });

  it('rounds interpolated x.x5 ties up despite float error', () => {
    // Red Hat cvss-v4-calculator issue #66 (fixed by PR #67, Nov 2024): the unrounded 8.55 computes as
    // 8.5499999999999; FIRST/Red Hat now give 8.6 (so do ae-cvss-calculator and Red Hat's cvss 3.x).
    expect(score('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:L/VA:N/SC:H/SI:H/SA:H')).toBe(8.6);
    // Red Hat cvss-v4-calculator issue #48: unrounded 0.35 and 8.95 must give 0.4 and 9.0.
    expect(score('CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:A/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N/E:U')).toBe(0.4);
    expect(scoreCvss('CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:N/SC:H/SI:H/SA:H/E:P')).toMatchObject({
      score: 9,
      level: 'critical',
    });
    // Red Hat cvss issue #60: unrounded 8.45 (a float just below it) must give 8.5.
    const full =
      'CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:A/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N/E:P/CR:L/IR:L/AR:L/MAV:N/MAC:L/MAT:N/MPR:L' +
      '/MUI:A/MVC:H/MVI:H/MVA:H/MSC:H/MSI:S/MSA:S/S:P/AU:Y/R:I/V:C/RE:H/U:Red';
    expect(score(full)).toBe(8.5);
  });

  it('carries the 270-entry MacroVector table of the reference calculator', () => {
    const keys = Object.keys(CVSS4_MACROVECTOR_SCORES);
    expect(keys).toHaveLength(270);
    expect(keys.every((key) => /^[0-2][01][0-2][0-2][0-2][01]$/.test(key) && !/^..2..0$/.test(key))).toBe(true);
    // Spot checks against cvss40.js LOOKUP_TABLE: the first, the last and one in the middle.
    expect(CVSS4_MACROVECTOR_SCORES).toMatchObject({ '000000': 10, '111211': 2.9, '212221': 0.1 });
  });
});

describe('scoreCvss rejects what is not a vector', () => {
  it.each([
    ['empty', ''],
    ['prefix only', 'CVSS:3.1/'],
    ['unknown version', 'CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'],
    ['future version', 'CVSS:5.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N'],
    ['lowercase prefix', 'cvss:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'],
    ['missing mandatory A', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H'],
    ['missing mandatory SA', 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N'],
    ['duplicate metric', 'CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'],
    ['duplicate optional metric', 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A/E:U'],
    ['bad value', 'CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'],
    ['S only exists for MSI', 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N'],
    ['unknown metric', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1'],
    ['prototype key', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/__proto__:X'],
    ['trailing slash', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/'],
    ['double colon', 'CVSS:3.1/AV:N:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'],
    ['surrounding space', ' CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'],
    ['v3 body without prefix', 'AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'],
    ['v2 with v3 values', 'AV:N/AC:L/Au:N/C:H/I:H/A:H'],
    ['v3 metric in a v4 vector', 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/S:U'],
  ])('%s', (_name, vector) => {
    expect(scoreCvss(vector)).toBeUndefined();
  });
});

describe('severity levels', () => {
  it('maps scores by the CVSS v3/v4 qualitative table, boundaries included', () => {
    const cases: [number, string][] = [
      [0, 'none'],
      [0.1, 'low'],
      [3.9, 'low'],
      [4.0, 'medium'],
      [6.9, 'medium'],
      [7.0, 'high'],
      [8.9, 'high'],
      [9.0, 'critical'],
      [10, 'critical'],
      [Number.NaN, 'none'],
      [-1, 'none'],
    ];
    expect(cases.map(([s]) => severityOfScore(s))).toEqual(cases.map(([, level]) => level));
  });

  it('parses level names case-insensitively, with GitHub "moderate" as medium', () => {
    expect(['CRITICAL', 'High', ' moderate ', 'Medium', 'low', 'NONE'].map(parseSeverityLevel)).toEqual([
      'critical',
      'high',
      'medium',
      'medium',
      'low',
      'none',
    ]);
    expect(['', 'severe', 'toString', 'constructor', 'informational'].map(parseSeverityLevel)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('ranks levels from none to critical, frozen', () => {
    expect(Object.entries(SEVERITY_RANK).sort((a, b) => a[1] - b[1])).toEqual([
      ['none', 0],
      ['low', 1],
      ['medium', 2],
      ['high', 3],
      ['critical', 4],
    ]);
    expect(Object.isFrozen(SEVERITY_RANK)).toBe(true);
    expect(Object.isFrozen(scoreCvss('AV:N/AC:L/Au:N/C:P/I:P/A:P'))).toBe(true);
  });
});
