import { describe, expect, it } from 'vitest';
import { checkLicensePolicy, judgeLicense, type LicensePolicy } from '../../../src/license/policy.js';

const policy = (p: Partial<LicensePolicy>): LicensePolicy => ({ unknown: 'warn', ...p });
const allowed = (chosen: string[]) => ({ kind: 'allowed', chosen });
const kindOf = (declared: string, p: LicensePolicy) => judgeLicense(declared, p).kind;

describe('judgeLicense: allow and deny lists', () => {
  it('allows everything when the policy lists nothing, choosing the first alternative', () => {
    expect(judgeLicense('MIT OR Apache-2.0', policy({}))).toEqual(allowed(['MIT']));
  });

  it('with an allow list, denies whatever is not in it', () => {
    const p = policy({ allow: ['MIT', 'Apache-2.0'] });
    expect(judgeLicense('mit', p)).toEqual(allowed(['MIT']));
    expect(judgeLicense('GPL-3.0-only', p)).toEqual({
      kind: 'denied',
      reason: 'GPL-3.0-only is not in the allow list',
      licenses: ['GPL-3.0-only'],
    });
  });

  it('with only a deny list, allows whatever is not denied', () => {
    const p = policy({ deny: ['AGPL-3.0-only'] });
    expect(judgeLicense('LicenseRef-Acme', p)).toEqual(allowed(['LicenseRef-Acme']));
    expect(judgeLicense('AGPL-3.0-only', p)).toEqual({
      kind: 'denied',
      reason: 'AGPL-3.0-only is denied by deny[0] ("AGPL-3.0-only")',
      licenses: ['AGPL-3.0-only'],
    });
  });

  it('lets deny win over allow for the same license', () => {
    const p = policy({ allow: ['MIT', 'GPL-3.0-only'], deny: ['GPL-3.0-only'] });
    expect(judgeLicense('GPL-3.0-only', p)).toMatchObject({ kind: 'denied', licenses: ['GPL-3.0-only'] });
    expect(judgeLicense('MIT', p)).toEqual(allowed(['MIT']));
  });
});

describe('judgeLicense: OR and AND', () => {
  it('complies with OR when any choice is fully allowed, and reports that choice', () => {
    const p = policy({ allow: ['MIT', 'BSD-3-Clause'] });
    expect(judgeLicense('GPL-3.0-only OR MIT', p)).toEqual(allowed(['MIT']));
    expect(judgeLicense('MIT AND Apache-2.0 OR BSD-3-Clause', p)).toEqual(allowed(['BSD-3-Clause']));
    expect(judgeLicense('MIT AND Apache-2.0 OR BSD-3-Clause', policy({ allow: ['MIT', 'Apache-2.0'] }))).toEqual(
      allowed(['Apache-2.0', 'MIT']),
    );
  });

  it('denies OR only when no choice complies, naming every failing license', () => {
    expect(judgeLicense('GPL-3.0-only OR AGPL-3.0-only', policy({ deny: ['GPL-3.0-only', 'AGPL-3.0-only'] }))).toEqual({
      kind: 'denied',
      reason:
        'no way to comply with "GPL-3.0-only OR AGPL-3.0-only": GPL-3.0-only is denied by deny[0] ("GPL-3.0-only"); ' +
        'AGPL-3.0-only is denied by deny[1] ("AGPL-3.0-only")',
      licenses: ['AGPL-3.0-only', 'GPL-3.0-only'],
    });
  });

  it('requires every license of an AND, and names only the ones that fail', () => {
    // pako@2.2.0 declares "(MIT AND Zlib)".
    expect(judgeLicense('(MIT AND Zlib)', policy({ allow: ['MIT'] }))).toEqual({
      kind: 'denied',
      reason: 'no way to comply with "MIT AND Zlib": Zlib is not in the allow list',
      licenses: ['Zlib'],
    });
    expect(judgeLicense('(MIT AND Zlib)', policy({ allow: ['MIT', 'Zlib'] }))).toEqual(allowed(['MIT', 'Zlib']));
    expect(judgeLicense('MIT AND (GPL-2.0-only OR ISC)', policy({ deny: ['GPL-2.0-only'] }))).toEqual(
      allowed(['ISC', 'MIT']),
    );
  });

  it('judges real package.json licenses', () => {
    // rc@1.2.8 declares "(BSD-2-Clause OR MIT OR Apache-2.0)"; expand-template@2.0.3 declares "(MIT OR WTFPL)".
    expect(judgeLicense('(BSD-2-Clause OR MIT OR Apache-2.0)', policy({ allow: ['Apache-2.0'] }))).toEqual(
      allowed(['Apache-2.0']),
    );
    expect(judgeLicense('(MIT OR WTFPL)', policy({ deny: ['WTFPL'] }))).toEqual(allowed(['MIT']));
    expect(kindOf('(MIT OR WTFPL)', policy({ deny: ['WTFPL', 'MIT'] }))).toBe('denied');
  });
});

describe('judgeLicense: versions, deprecated ids and exceptions', () => {
  it('treats deprecated GNU ids as their -only / -or-later replacements', () => {
    const p = policy({ deny: ['GPL-2.0-only'] });
    for (const declared of ['GPL-2.0', 'gpl-2.0-only', 'GPL-2.0-with-classpath-exception']) {
      expect(kindOf(declared, p), declared).toBe('denied');
    }
    expect(kindOf('GPL-2.0-only', policy({ deny: ['GPL-2.0'] }))).toBe('denied');
    for (const declared of ['GPL-3.0-only', 'LGPL-2.0-only', 'GPL-1.0-only'])
      expect(kindOf(declared, p)).toBe('allowed');
  });

  it('lets an entry for X cover X-or-later, but not the other way round', () => {
    const denyOnly = policy({ deny: ['GPL-2.0-only'] });
    for (const declared of ['GPL-2.0+', 'GPL-2.0-or-later', 'GPL-2.0-only+']) {
      expect(kindOf(declared, denyOnly), declared).toBe('denied');
    }
    const denyLater = policy({ deny: ['GPL-2.0+'] });
    expect(kindOf('GPL-2.0-or-later', denyLater)).toBe('denied');
    expect(kindOf('GPL-2.0-only', denyLater)).toBe('allowed');
    expect(judgeLicense('GPL-2.0-or-later', policy({ allow: ['GPL-2.0-only'] }))).toEqual(
      allowed(['GPL-2.0-or-later']),
    );
    expect(kindOf('GPL-2.0-only', policy({ allow: ['GPL-2.0-or-later'] }))).toBe('denied');
    // An exact allow beats a covering deny: the or-later grant is allowed by name.
    expect(kindOf('GPL-2.0+', policy({ allow: ['GPL-2.0-or-later'], deny: ['GPL-2.0-only'] }))).toBe('allowed');
  });

  it('matches X WITH E exactly, and lets plain X cover it', () => {
    const p = policy({ allow: ['GPL-2.0-only WITH Classpath-exception-2.0', 'MIT'], deny: ['GPL-2.0-only'] });
    expect(judgeLicense('GPL-2.0-only WITH Classpath-exception-2.0', p)).toEqual(
      allowed(['GPL-2.0-only WITH Classpath-exception-2.0']),
    );
    expect(kindOf('GPL-2.0-with-classpath-exception', p)).toBe('allowed');
    expect(judgeLicense('GPL-2.0-only WITH GCC-exception-2.0', p)).toEqual({
      kind: 'denied',
      reason: 'GPL-2.0-only WITH GCC-exception-2.0 is denied by deny[0] ("GPL-2.0-only")',
      licenses: ['GPL-2.0-only WITH GCC-exception-2.0'],
    });
    expect(kindOf('GPL-2.0-only', p)).toBe('denied');
    expect(kindOf('Apache-2.0 WITH LLVM-exception', policy({ allow: ['Apache-2.0'] }))).toBe('allowed');
    expect(kindOf('Apache-2.0', policy({ allow: ['Apache-2.0 WITH LLVM-exception'] }))).toBe('denied');
  });

  it('matches LicenseRef-s case-insensitively', () => {
    expect(judgeLicense('licenseref-acme', policy({ allow: ['LicenseRef-Acme'] }))).toEqual(
      allowed(['licenseref-acme']),
    );
  });
});

describe('judgeLicense: unknown licenses', () => {
  it('returns the policy action for missing, NOASSERTION, NONE and free-text licenses', () => {
    const p = policy({ allow: ['MIT'], unknown: 'deny' });
    for (const declared of [
      undefined,
      '',
      '  ',
      'NOASSERTION',
      'NONE',
      'UNLICENSED',
      'BSD',
      'MIT/X11',
      'Public Domain',
    ]) {
      expect(judgeLicense(declared, p), String(declared)).toMatchObject({ kind: 'unknown', action: 'deny' });
    }
    expect(judgeLicense(undefined, policy({ unknown: 'allow' }))).toEqual({
      kind: 'unknown',
      reason: 'no license is declared',
      action: 'allow',
    });
    expect(judgeLicense('SEE LICENSE IN LICENSE.md', p)).toEqual({
      kind: 'unknown',
      reason:
        'declared license "SEE LICENSE IN LICENSE.md": "SEE LICENSE IN …" points to a license file; it is not an SPDX expression',
      action: 'deny',
    });
    expect(judgeLicense('Apache 2.0', p)).toMatchObject({
      reason: expect.stringContaining('did you mean Apache-2.0?'),
    });
  });

  it('keeps reasons short for huge free text', () => {
    const verdict = judgeLicense(`${'x'.repeat(100_000)} y`, policy({}));
    expect(verdict.kind).toBe('unknown');
    expect(verdict.kind === 'unknown' && verdict.reason.length < 100_000).toBe(true);
  });

  it('returns frozen verdicts', () => {
    const verdict = judgeLicense('MIT AND ISC', policy({}));
    expect(Object.isFrozen(verdict)).toBe(true);
    expect(verdict.kind === 'allowed' && Object.isFrozen(verdict.chosen)).toBe(true);
  });
});

describe('checkLicensePolicy', () => {
  it('accepts ids, LicenseRef-s and id WITH exception', () => {
    const p = policy({
      allow: ['MIT', 'Apache-2.0 WITH LLVM-exception', 'LicenseRef-Acme', 'GPL-2.0+'],
      deny: ['AGPL-3.0-only'],
    });
    expect(checkLicensePolicy(p)).toEqual([]);
  });

  it('reports every bad entry with its list and index', () => {
    const p = policy({
      allow: ['Apache 2.0', 'MIT OR ISC', 'GPL-2.0-only WITH Classpath', 'GPL-2.0-only'],
      deny: ['MIT', 'Apache-2.0', 'GPL3', 'GPL-2.0'],
    });
    expect(checkLicensePolicy(p)).toEqual([
      'allow[0]: "Apache 2.0" is not an SPDX license id; did you mean Apache-2.0?',
      'allow[1]: "MIT OR ISC" joins licenses with OR; list one license per entry',
      'allow[2]: "GPL-2.0-only WITH Classpath": "Classpath" is not an SPDX license exception id',
      'deny[2]: "GPL3" is not an SPDX license id; did you mean GPL-3.0-only?',
      'deny[3]: "GPL-2.0" is also allowed by allow[3] ("GPL-2.0-only")',
    ]);
  });

  it('warns that an empty allow list denies everything', () => {
    expect(checkLicensePolicy(policy({ allow: [] }))).toEqual([
      'allow: an empty allow list denies every license; leave it out to allow all but the denied ones',
    ]);
    expect(kindOf('MIT', policy({ allow: [] }))).toBe('denied');
  });

  it('leaves invalid entries out of judging', () => {
    const p = policy({ allow: ['GPL3', 'MIT'] });
    expect(kindOf('MIT', p)).toBe('allowed');
    expect(kindOf('GPL-3.0-only', p)).toBe('denied');
  });
});
