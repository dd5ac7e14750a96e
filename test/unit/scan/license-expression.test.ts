import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKilnError } from '../../../src/core/errors.js';
import {
  formatLicenseExpression,
  isLicenseParseError,
  type LicenseExpression,
  type LicenseParseError,
  licenseChoices,
  parseLicenseExpression,
} from '../../../src/license/expression.js';
import { closestSpdxId, spdxExceptions, spdxLicense, spdxLicenses } from '../../../src/license/spdx-ids.js';
import { VECTORS } from '../../helpers/vectors.js';

const lic = (id: string, orLater = false, exception?: string): LicenseExpression =>
  exception === undefined ? { kind: 'license', id, orLater } : { kind: 'license', id, orLater, exception };
const and = (left: LicenseExpression, right: LicenseExpression): LicenseExpression => ({ kind: 'and', left, right });
const or = (left: LicenseExpression, right: LicenseExpression): LicenseExpression => ({ kind: 'or', left, right });

function parsed(text: string): LicenseExpression {
  const result = parseLicenseExpression(text);
  if (isLicenseParseError(result)) throw new Error(`${text}: ${result.error} at ${result.at}`);
  return result;
}

function failed(text: string): LicenseParseError {
  const result = parseLicenseExpression(text);
  if (!isLicenseParseError(result)) throw new Error(`${text} parsed as ${formatLicenseExpression(result)}`);
  return result;
}

describe('parseLicenseExpression: SPDX 2.3 Annex D examples', () => {
  it('parses the simple expressions of D.3', () => {
    expect(parsed('CDDL-1.0')).toEqual(lic('CDDL-1.0'));
    expect(parsed('CDDL-1.0+')).toEqual(lic('CDDL-1.0', true));
    for (const ref of ['LicenseRef-23', 'LicenseRef-MIT-Style-1', 'DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2']) {
      expect(parsed(ref)).toEqual(lic(ref));
    }
  });

  it('parses OR, AND and WITH (D.4.2 to D.4.4), chains associating to the left', () => {
    expect(parsed('LGPL-2.1-only OR MIT OR BSD-3-Clause')).toEqual(
      or(or(lic('LGPL-2.1-only'), lic('MIT')), lic('BSD-3-Clause')),
    );
    expect(parsed('LGPL-2.1-only AND MIT AND BSD-2-Clause')).toEqual(
      and(and(lic('LGPL-2.1-only'), lic('MIT')), lic('BSD-2-Clause')),
    );
    expect(parsed('GPL-2.0-or-later WITH Bison-exception-2.2')).toEqual(
      lic('GPL-2.0-or-later', false, 'Bison-exception-2.2'),
    );
  });

  it('applies AND before OR unless parentheses say otherwise (D.4.5)', () => {
    expect(parsed('LGPL-2.1-only OR BSD-3-Clause AND MIT')).toEqual(
      or(lic('LGPL-2.1-only'), and(lic('BSD-3-Clause'), lic('MIT'))),
    );
    expect(parsed('MIT AND (LGPL-2.1-or-later OR BSD-3-Clause)')).toEqual(
      and(lic('MIT'), or(lic('LGPL-2.1-or-later'), lic('BSD-3-Clause'))),
    );
    expect(parsed('MIT AND Apache-2.0 OR BSD-3-Clause')).toEqual(
      or(and(lic('MIT'), lic('Apache-2.0')), lic('BSD-3-Clause')),
    );
  });

  it('binds WITH tighter than AND, and "+" to the id before it', () => {
    expect(parsed('MIT AND GPL-2.0+ WITH Classpath-exception-2.0 OR ISC')).toEqual(
      or(and(lic('MIT'), lic('GPL-2.0', true, 'Classpath-exception-2.0')), lic('ISC')),
    );
  });

  it('gives the trees of the spdx-expression-parse 4.0.0 README (its plus: true is orLater)', () => {
    expect(parsed('(LGPL-2.1 OR BSD-3-Clause AND MIT)')).toEqual(
      or(lic('LGPL-2.1'), and(lic('BSD-3-Clause'), lic('MIT'))),
    );
    expect(parsed('(MIT AND (LGPL-2.1+ AND BSD-3-Clause))')).toEqual(
      and(lic('MIT'), and(lic('LGPL-2.1', true), lic('BSD-3-Clause'))),
    );
    // The README's example of an invalid expression: "Should be `Apache-2.0`".
    expect(failed('Apache 2')).toEqual({
      error: '"Apache 2" is not an SPDX license id; did you mean Apache-2.0?',
      at: 0,
    });
  });
});

describe('parseLicenseExpression: case (Annex D.2)', () => {
  it('matches ids case-insensitively and returns them as the SPDX list spells them', () => {
    expect(parsed('mit OR apache-2.0')).toEqual(or(lic('MIT'), lic('Apache-2.0')));
    expect(parsed('gpl-2.0-only WITH classpath-exception-2.0')).toEqual(
      lic('GPL-2.0-only', false, 'Classpath-exception-2.0'),
    );
    expect(parsed('licenseref-Acme')).toEqual(lic('licenseref-Acme'));
  });

  it('takes operators all upper or all lower case, never mixed', () => {
    expect(parsed('MIT or ISC and Zlib')).toEqual(or(lic('MIT'), and(lic('ISC'), lic('Zlib'))));
    expect(parsed('GPL-3.0-only with GCC-exception-3.1')).toEqual(lic('GPL-3.0-only', false, 'GCC-exception-3.1'));
    expect(failed('MIT Or ISC')).toEqual({
      error: 'operator "Or" must be all upper case (OR) or all lower case (or)',
      at: 4,
    });
    expect(failed('MIT OR And')).toMatchObject({ at: 7, error: expect.stringContaining('"And" must be all upper') });
  });
});

describe('parseLicenseExpression: errors', () => {
  it('reports structural errors with the offset of the problem', () => {
    const cases: [string, string, number][] = [
      ['', 'empty license expression', 0],
      ['  \t ', 'empty license expression', 0],
      ['MIT OR', 'expected a license id after "OR"', 6],
      ['(MIT', 'missing ")" to close the "(" at 0', 4],
      ['(MIT ISC)', 'missing ")" to close the "(" at 0', 5],
      ['MIT)', 'unmatched ")"', 3],
      ['()', 'expected a license id, found ")"', 1],
      ['MIT ISC', 'expected AND, OR or WITH between "MIT" and "ISC"', 4],
      ['MIT AND OR ISC', 'expected a license id, found "OR"', 8],
      ['(MIT OR ISC) WITH LLVM-exception', 'WITH must follow a single license, not a parenthesized expression', 13],
      [
        'MIT WITH LLVM-exception WITH Classpath-exception-2.0',
        'WITH must follow a single license id, and only once',
        24,
      ],
      ['MIT WITH', 'expected a license exception id after "WITH"', 8],
      ['MIT WITH (LLVM-exception)', 'expected a license exception id after WITH, found "("', 9],
      ['GPL-2.0 +', '"+" must follow a license id with no space in between', 8],
      ['LicenseRef-Acme+', '"+" (or later) applies to SPDX License List ids, not to "LicenseRef-Acme"', 0],
      ['MI+T', '"MI+T": "+" may only come last, right after the license id', 0],
      ['DocumentRef-x:MIT', '"DocumentRef-x:MIT": only "DocumentRef-…:LicenseRef-…" may contain ":"', 0],
    ];
    for (const [text, error, at] of cases) expect(failed(text), text).toEqual({ error, at });
  });

  it('says why WITH takes only exceptions, and suggests the closest one', () => {
    expect(failed('Apache-2.0 WITH MIT')).toEqual({
      error: '"MIT" is a license, not an exception; WITH takes an exception id such as Classpath-exception-2.0',
      at: 16,
    });
    expect(failed('GPL-2.0-only WITH Classpath-exception-2')).toEqual({
      error: '"Classpath-exception-2" is not an SPDX license exception id; did you mean Classpath-exception-2.0?',
      at: 18,
    });
  });

  it('treats the free text npm package.json files carry as not an SPDX expression', () => {
    // "SEE LICENSE IN <filename>" and "UNLICENSED" are the forms https://docs.npmjs.com/cli/v10/configuring-npm/package-json#license
    // documents for non-SPDX licenses; "BSD", "MIT/X11", "Public Domain", "Apache 2" are legacy values of old packages.
    const cases: [string, string, number][] = [
      ['SEE LICENSE IN LICENSE.md', '"SEE LICENSE IN …" points to a license file; it is not an SPDX expression', 0],
      [
        'UNLICENSED',
        `"UNLICENSED" is npm's marker for a package that grants no license; it is not an SPDX license id`,
        0,
      ],
      ['BSD', '"BSD" is not an SPDX license id', 0],
      ['MIT/X11', '"MIT/X11" contains "/", which no license id may contain; join licenses with OR or AND', 3],
      ['Public Domain', '"Public Domain" is not an SPDX license id', 0],
      ['GPL3', '"GPL3" is not an SPDX license id; did you mean GPL-3.0-only?', 0],
      ['MIT License', 'expected AND, OR or WITH between "MIT" and "License"', 4],
      ['NOASSERTION', '"NOASSERTION" is the SPDX value for "license not known", not a license id', 0],
      [
        'MIT OR NONE',
        '"NONE" is the SPDX value for "no license", not a license id; it cannot be part of an expression',
        7,
      ],
    ];
    for (const [text, error, at] of cases) expect(failed(text), text).toEqual({ error, at });
  });

  it('survives adversarial input without exhausting the stack', () => {
    expect(parsed(`${'('.repeat(64)}MIT${')'.repeat(64)}`)).toEqual(lic('MIT'));
    expect(failed(`${'('.repeat(65)}MIT${')'.repeat(65)}`)).toEqual({
      error: 'parentheses nest deeper than 64 levels',
      at: 64,
    });
    expect(failed(`${'('.repeat(200_000)}MIT`).at).toBe(64);
    expect(failed(`${'MIT OR '.repeat(1000)}ISC`)).toEqual({
      error: 'more than 1000 licenses in one expression',
      at: 7000,
    });
    expect(failed('MIT OR ISC\u0000')).toMatchObject({ at: 10 });
    expect(failed('MIT\u202EOR ISC')).toMatchObject({ at: 3 });
  });
});

describe('parseLicenseExpression: real package.json license strings', () => {
  it('parses the expressions of packages in this repository', () => {
    // Each value is the "license" field of the package@version named, as installed in node_modules.
    expect(parsed('(MIT OR WTFPL)')).toEqual(or(lic('MIT'), lic('WTFPL'))); // expand-template@2.0.3
    expect(parsed('(MIT AND Zlib)')).toEqual(and(lic('MIT'), lic('Zlib'))); // pako@2.2.0
    expect(parsed('(BSD-2-Clause OR MIT OR Apache-2.0)')).toEqual(
      or(or(lic('BSD-2-Clause'), lic('MIT')), lic('Apache-2.0')),
    ); // rc@1.2.8
    expect(parsed('MIT OR Apache-2.0')).toEqual(or(lic('MIT'), lic('Apache-2.0'))); // @biomejs/cli-linux-x64@2.6.8
    expect(parsed('BlueOak-1.0.0')).toEqual(lic('BlueOak-1.0.0')); // lru-cache@11.5.3
    expect(parsed('Python-2.0')).toEqual(lic('Python-2.0')); // argparse@2.0.1
  });
});

describe('parseLicenseExpression options', () => {
  it('checks grammar only with ids: any, and upper-case operators only with operators: upper', () => {
    expect(parseLicenseExpression('BSD OR Public-Domain', { ids: 'any' })).toEqual(
      or(lic('BSD'), lic('Public-Domain')),
    );
    expect(parseLicenseExpression('MIT or ISC', { operators: 'upper' })).toEqual({
      error: 'operator "or" must be written in upper case: OR',
      at: 4,
    });
  });
});

describe('formatLicenseExpression', () => {
  it('prints upper-case operators and only the parentheses AND needs around OR', () => {
    const cases: [string, string][] = [
      ['((MIT))', 'MIT'],
      ['(MIT OR ISC) AND Apache-2.0', '(MIT OR ISC) AND Apache-2.0'],
      ['MIT OR (ISC AND Zlib)', 'MIT OR ISC AND Zlib'],
      ['MIT or (ISC or Zlib)', 'MIT OR ISC OR Zlib'],
      ['mit AND (isc AND (zlib OR 0bsd))', 'MIT AND ISC AND (Zlib OR 0BSD)'],
      ['gpl-2.0+ with bison-exception-2.2', 'GPL-2.0+ WITH Bison-exception-2.2'],
    ];
    for (const [text, canonical] of cases) {
      expect(formatLicenseExpression(parsed(text)), text).toBe(canonical);
      expect(formatLicenseExpression(parsed(canonical)), canonical).toBe(canonical);
    }
  });
});

describe('licenseChoices', () => {
  it('lists OR alternatives, each AND set sorted and deduplicated', () => {
    expect(licenseChoices(parsed('MIT AND Apache-2.0 OR BSD-3-Clause'))).toEqual([
      ['Apache-2.0', 'MIT'],
      ['BSD-3-Clause'],
    ]);
    expect(licenseChoices(parsed('MIT AND MIT'))).toEqual([['MIT']]);
    expect(licenseChoices(parsed('MIT OR MIT'))).toEqual([['MIT']]);
    expect(licenseChoices(parsed('(MIT OR ISC) AND (MIT OR Apache-2.0)'))).toEqual([
      ['MIT'],
      ['Apache-2.0', 'MIT'],
      ['ISC', 'MIT'],
      ['Apache-2.0', 'ISC'],
    ]);
    expect(licenseChoices(parsed('GPL-2.0+ WITH Classpath-exception-2.0 OR LicenseRef-Acme'))).toEqual([
      ['GPL-2.0+ WITH Classpath-exception-2.0'],
      ['LicenseRef-Acme'],
    ]);
  });

  it('lists up to 1000 choices, and refuses more with a KilnError', () => {
    const clauses = (n: number) => Array.from({ length: n }, (_, i) => `(LicenseRef-a${i} OR LicenseRef-b${i})`);
    const choices = licenseChoices(parsed(clauses(9).join(' AND ')));
    expect(choices).toHaveLength(512);
    expect(choices.every((c) => c.length === 9)).toBe(true);
    let caught: unknown;
    try {
      licenseChoices(parsed(clauses(10).join(' AND ')));
    } catch (err) {
      caught = err;
    }
    expect(isKilnError(caught, 'KILN_SBOM_INVALID')).toBe(true);
    expect((caught as Error).message).toBe('license expression has more than 1000 license choices');
  });
});

describe('the vendored SPDX License List', () => {
  const schema = JSON.parse(readFileSync(path.join(VECTORS, 'cyclonedx/schema/spdx.schema.json'), 'utf8')) as {
    enum: string[];
    $comment: string;
  };

  it('holds exactly the ids of the CycloneDX spdx.schema.json enum (license list 3.28.0)', () => {
    expect(schema.$comment).toBe('v1.1-3.28.0');
    expect([...spdxLicenses(), ...spdxExceptions()].map((e) => e.id)).toEqual(schema.enum);
    expect(spdxLicenses()).toHaveLength(727);
  });

  it('flags the ids licenses.json marks deprecated', () => {
    // spdx/license-list-data json/licenses.json: GPL-2.0 and GPL-2.0+ have "isDeprecatedLicenseId": true.
    expect(spdxLicense('GPL-2.0')?.deprecated).toBe(true);
    expect(spdxLicense('gpl-2.0+')).toEqual({ id: 'GPL-2.0+', deprecated: true });
    expect(spdxLicense('GPL-2.0-only')?.deprecated).toBe(false);
    expect(spdxLicenses().filter((e) => e.deprecated)).toHaveLength(32);
    expect(closestSpdxId('GPL v2', 'license')).toBe('GPL-2.0-only');
    expect(closestSpdxId('BSD', 'license')).toBeUndefined();
  });

  it('parses every listed license id, and every listed exception after WITH', () => {
    for (const { id } of spdxLicenses()) {
      const expected = id.endsWith('+') ? lic(id.slice(0, -1), true) : lic(id);
      expect(parsed(id), id).toEqual(expected);
      expect(parsed(id.toUpperCase()), id).toEqual(expected);
    }
    for (const { id } of spdxExceptions()) expect(parsed(`MIT WITH ${id}`)).toEqual(lic('MIT', false, id));
  });
});

describe('results', () => {
  it('are frozen', () => {
    const tree = parsed('MIT AND (ISC OR GPL-2.0-only WITH Classpath-exception-2.0)');
    expect(Object.isFrozen(tree)).toBe(true);
    expect(tree.kind === 'and' && Object.isFrozen(tree.right)).toBe(true);
    expect(Object.isFrozen(failed('BSD'))).toBe(true);
    expect(Object.isFrozen(licenseChoices(tree)[0])).toBe(true);
  });
});
