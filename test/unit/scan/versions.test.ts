import { describe, expect, it } from 'vitest';
import { SEMVER_ORDER, type VersionOrder, versionOrderFor } from '../../../src/ecosystems/versions/order.js';

function orderFor(ecosystem: string): VersionOrder {
  const order = versionOrderFor(ecosystem);
  if (order === undefined) throw new Error(`no order for ${ecosystem}`);
  return order;
}

/** Every pair of `ascending` compares as its positions do, in both argument orders (so the order is antisymmetric). */
function pairMismatches(order: VersionOrder, ascending: readonly string[]): string[] {
  const bad: string[] = [];
  ascending.forEach((a, i) => {
    ascending.forEach((b, j) => {
      const got = order.compare(a, b);
      if (got !== Math.sign(i - j)) bad.push(`${a} vs ${b}: ${got}`);
    });
  });
  return bad;
}

/** Each pair compares equal both ways. */
function equalMismatches(order: VersionOrder, pairs: readonly (readonly [string, string])[]): string[] {
  return pairs.filter(([a, b]) => order.compare(a, b) !== 0 || order.compare(b, a) !== 0).map(([a, b]) => `${a}=${b}`);
}

/** The inputs the order refuses, which should be none. */
function accepted(order: VersionOrder, invalid: readonly string[]): string[] {
  return invalid.filter(
    (v) => order.compare(v, v) !== undefined || order.compare(v, invalidPartner(order)) !== undefined,
  );
}
const invalidPartner = (order: VersionOrder) =>
  order.scheme === 'PyPI' || order.scheme === 'RubyGems' ? '1.0' : '1.0.0';

/** Sorts a deterministically shuffled copy: a comparator that is not a consistent total order fails to restore it. */
function sortShuffled(order: VersionOrder, ascending: readonly string[]): string[] {
  let seed = 0x9e3779b9;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const copy = [...ascending];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as string, copy[i] as string];
  }
  expect(copy).not.toEqual(ascending);
  return copy.sort((a, b) => order.compare(a, b) ?? Number.NaN);
}

function expectAscending(order: VersionOrder, ascending: readonly string[]): void {
  expect(pairMismatches(order, ascending)).toEqual([]);
  expect(sortShuffled(order, ascending)).toEqual(ascending);
}

const GARBAGE = ['', 'garbage', '1..2', ' ', '.', 'french toast', '\u0661.0.0' /* Arabic-Indic digit one */];

describe('SEMVER_ORDER', () => {
  it('follows the SemVer 2.0.0 precedence examples of §11', () => {
    // semver.org/spec/v2.0.0.html §11.2 and §11.4.
    expectAscending(SEMVER_ORDER, ['1.0.0', '2.0.0', '2.1.0', '2.1.1']);
    expectAscending(SEMVER_ORDER, [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
    ]);
  });

  it('ignores build metadata (§10 examples) and compares numbers of any size exactly', () => {
    const pairs = [
      ['1.0.0-alpha+001', '1.0.0-alpha'],
      ['1.0.0+20130313144700', '1.0.0'],
      ['1.0.0-beta+exp.sha.5114f85', '1.0.0-beta'],
      ['1.0.0+21AF26D3----117B344092BD', '1.0.0+other'],
    ] as const;
    expect(equalMismatches(SEMVER_ORDER, pairs)).toEqual([]);
    // One past 2^53: a double cannot tell these apart, SemVer's "compared numerically" can.
    expectAscending(SEMVER_ORDER, ['1.0.0-9007199254740992', '1.0.0-9007199254740993']);
    expectAscending(SEMVER_ORDER, ['9.0.0', '99999999999999999999999.999999999999999999.99999999999999999']);
  });

  it('accepts and refuses what the semver.org FAQ regular-expression test set does', () => {
    // The valid and invalid strings of regex101.com/r/Ly7O1x/3, linked from semver.org's FAQ.
    const valid = [
      '0.0.4',
      '10.20.30',
      '1.1.2-prerelease+meta',
      '1.1.2+meta-valid',
      '1.0.0-alpha0.valid',
      '1.0.0-alpha.0valid',
      '1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay',
      '10.2.3-DEV-SNAPSHOT',
      '1.2.3----RC-SNAPSHOT.12.9.1--.12+788',
      '1.0.0+0.build.1-rc.10000aaa-kk-0.1',
      '1.0.0-0A.is.legal',
    ];
    expect(valid.filter((v) => SEMVER_ORDER.compare(v, v) !== 0)).toEqual([]);
    const invalid = [
      '1',
      '1.2',
      '1.2.3-0123',
      '1.2.3-0123.0123',
      '1.1.2+.123',
      '+invalid',
      '-invalid',
      'alpha.beta.1',
      '1.0.0-alpha_beta',
      '1.0.0-alpha..',
      '1.0.0-alpha..1',
      '01.1.1',
      '1.01.1',
      '1.1.01',
      '1.2.3.DEV',
      '1.2-SNAPSHOT',
      '-1.0.3-gamma+b7718',
      '+justmeta',
      '9.8.7+meta+meta',
      '9.8.7-whatever+meta+meta',
    ];
    expect(accepted(SEMVER_ORDER, [...invalid, ...GARBAGE])).toEqual([]);
  });

  it('tolerates only a leading v (Go versions); OSV\'s introduced "0" and partial versions are not versions', () => {
    expect(SEMVER_ORDER.compare('v1.2.3', '1.2.3')).toBe(0);
    expect(SEMVER_ORDER.compare('v0.0.0-20191109021931-daa7c04131f5', '0.0.0')).toBe(-1);
    expect(accepted(SEMVER_ORDER, ['0', '1.2', 'vv1.2.3', 'V1.2.3', ' 1.2.3', '1.2.3\n', '=1.2.3'])).toEqual([]);
  });
});

describe('npm', () => {
  const npm = orderFor('npm');

  it('orders the node-semver comparison fixtures', () => {
    // npm/node-semver test/fixtures/comparisons.js: each first version is greater than the second.
    const greater = [
      ['0.0.0', '0.0.0-foo'],
      ['0.0.1', '0.0.0'],
      ['1.0.0', '0.9.9'],
      ['0.10.0', '0.9.0'],
      ['0.99.0', '0.10.0'],
      ['2.0.0', '1.2.3'],
      ['v0.0.0', '0.0.0-foo'],
      ['0.0.0', 'v0.0.0-foo'],
      ['1.2.3', '1.2.3-asdf'],
      ['1.2.3', '1.2.3-4'],
      ['1.2.3', '1.2.3-4-foo'],
      ['1.2.3-5-foo', '1.2.3-5'],
      ['1.2.3-5', '1.2.3-4'],
      ['1.2.3-5-foo', '1.2.3-5-Foo'],
      ['3.0.0', '2.7.2+asdf'],
      ['1.2.3-a.10', '1.2.3-a.5'],
      ['1.2.3-a.b', '1.2.3-a.5'],
      ['1.2.3-a.b', '1.2.3-a'],
      ['1.2.3-a.b.c.10.d.5', '1.2.3-a.b.c.5.d.100'],
      ['1.2.3-r2', '1.2.3-r100'],
      ['1.2.3-r100', '1.2.3-R2'],
    ];
    const wrong = greater.filter(([a = '', b = '']) => npm.compare(a, b) !== 1 || npm.compare(b, a) !== -1);
    expect(wrong).toEqual([]);
  });

  it('treats the node-semver equality fixtures and what semver.clean strips as equal', () => {
    // test/fixtures/equality.js (the strict ones), plus prefixes semver.clean removes ('=', 'v', runs of them).
    const pairs = [
      ['1.2.3-beta+build', '1.2.3-beta+otherbuild'],
      ['1.2.3+build', '1.2.3+otherbuild'],
      ['  v1.2.3+build', '1.2.3+otherbuild'],
      ['1.2.3', '=1.2.3'],
      ['1.2.3', '= 1.2.3'],
      ['1.2.3-0', '=v1.2.3-0'],
    ] as const;
    expect(equalMismatches(npm, pairs)).toEqual([]);
  });

  it('refuses the node-semver invalid fixtures: too long, above 2^53-1, junk', () => {
    // test/fixtures/invalid-versions.js, with MAX_LENGTH = 256 and MAX_SAFE_INTEGER = 9007199254740991.
    const invalid = [
      `${'1'.repeat(255)}.0.0`,
      '90071992547409910.0.0',
      '0.90071992547409910.0',
      '0.0.90071992547409910',
      '9007199254740992.0.0',
      'hello, world',
      'xyz',
      '1.2',
      'V1.2.3',
      '1.2.3-01',
    ];
    expect(accepted(npm, [...invalid, ...GARBAGE])).toEqual([]);
    expect(npm.compare('9007199254740991.0.0', '1.0.0')).toBe(1);
  });
});

describe('Go', () => {
  const go = orderFor('Go');

  it('orders golang.org/x/mod/semver test versions (canonical ones) with build metadata ignored', () => {
    // golang.org/x/mod semver/semver_test.go `tests`, ascending; "+meta" variants compare equal there.
    expectAscending(go, [
      'v1.0.0-alpha',
      'v1.0.0-alpha.1',
      'v1.0.0-alpha.beta',
      'v1.0.0-beta',
      'v1.0.0-beta.2',
      'v1.0.0-beta.11',
      'v1.0.0-rc.1',
      'v1.0.0',
      'v1.2.0',
      'v1.2.3-456',
      'v1.2.3-456.789',
      'v1.2.3-456-789',
      'v1.2.3-456a',
      'v1.2.3-pre',
      'v1.2.3-pre.1',
      'v1.2.3-zzz',
      'v1.2.3',
    ]);
    const pairs = [
      ['v1.2.3-pre+meta', 'v1.2.3-pre'],
      ['v1.2.3+meta-pre.sha.256a', 'v1.2.3'],
      ['v2.0.0+incompatible', 'v2.0.0'],
      // OSV's Go records write versions without the v; go.sum writes it.
      ['1.2.3', 'v1.2.3'],
      ['2.0.0+incompatible', 'v2.0.0+incompatible'],
    ] as const;
    expect(equalMismatches(go, pairs)).toEqual([]);
  });

  it('orders pseudo-versions as the pre-releases they are (go.dev/ref/mod#pseudo-versions)', () => {
    expectAscending(go, [
      'v0.0.0-20191109021931-daa7c04131f5', // no base version: before every tagged v0.0.0 pre-release and release
      'v0.0.0-20200101000000-0123456789ab',
      'v0.1.0',
      'v1.2.3',
      'v1.2.4-0.20191109021931-daa7c04131f5', // base v1.2.3: after it, before any v1.2.4 pre-release
      'v1.2.4-alpha',
      'v1.2.4-pre',
      'v1.2.4-pre.0.20191109021931-daa7c04131f5', // base v1.2.4-pre
      'v1.2.4-pre.1',
      'v1.2.4',
      'v1.9.9',
      'v2.0.0+incompatible',
      'v2.0.1-0.20191109021931-daa7c04131f5+incompatible',
      'v2.0.1',
    ]);
  });

  it('refuses what x/mod/semver refuses, and the non-canonical shorthands v1 and v1.2', () => {
    // x/mod/semver's invalid tests, then shorthands `go mod edit` rejects ("must be of the form v1.2.3").
    const invalid = ['bad', 'v1-alpha.beta.gamma', 'v1-pre', 'v1+meta', 'v1.2-pre', 'v1.2+meta', 'v1.2-pre+meta'];
    expect(accepted(go, [...invalid, 'v1', 'v1.2', '0', 'vv1.2.3', 'V1.2.3', 'v01.2.3', ...GARBAGE])).toEqual([]);
  });
});

describe('crates.io', () => {
  const crates = orderFor('crates.io');

  it('orders as SemVer 2.0.0 with u64 components and build metadata ignored', () => {
    // semver crate docs ("Total ordering"): 1.5.0 < 1.19.0; 1.0.0-alpha.1 < 1.0.0; pre-releases per SemVer.
    expectAscending(crates, ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0', '1.5.0']);
    expectAscending(crates, ['1.5.0', '1.19.0', '18446744073709551615.0.0']);
    // libgit2-sys 0.12.20+1.1.0 is the crate docs' build-metadata example.
    expect(crates.compare('0.12.20+1.1.0', '0.12.20')).toBe(0);
    expect(accepted(crates, ['18446744073709551616.0.0', 'v1.0.0', '1.01.0', ' 1.0.0', '1.0', ...GARBAGE])).toEqual([]);
  });
});

describe('PyPI', () => {
  const pypi = orderFor('PyPI');

  it('orders the example of PEP 440 "Summary of permitted suffixes and relative ordering"', () => {
    expectAscending(pypi, [
      '1.dev0',
      '1.0.dev456',
      '1.0a1',
      '1.0a2.dev456',
      '1.0a12.dev456',
      '1.0a12',
      '1.0b1.dev456',
      '1.0b2',
      '1.0b2.post345.dev456',
      '1.0b2.post345',
      '1.0rc1.dev456',
      '1.0rc1',
      '1.0',
      '1.0+abc.5',
      '1.0+abc.7',
      '1.0+5',
      '1.0.post456.dev34',
      '1.0.post456',
      '1.0.15',
      '1.1.dev1',
    ]);
  });

  it("orders pypa/packaging's VERSIONS list, epochs included", () => {
    // pypa/packaging tests/test_version.py VERSIONS ("This list must be in the correct sorting order").
    const oneEpoch = [
      '1.0.dev456',
      '1.0a1',
      '1.0a2.dev456',
      '1.0a12.dev456',
      '1.0a12',
      '1.0b1.dev456',
      '1.0b2',
      '1.0b2.post345.dev456',
      '1.0b2.post345',
      '1.0b2-346',
      '1.0c1.dev456',
      '1.0c1',
      '1.0rc2',
      '1.0c3',
      '1.0',
      '1.0.post456.dev34',
      '1.0.post456',
      '1.1.dev1',
      '1.2+123abc',
      '1.2+123abc456',
      '1.2+abc',
      '1.2+abc123',
      '1.2+abc123def',
      '1.2+1234.abc',
      '1.2+123456',
      '1.2.r32+123456',
      '1.2.rev33+123456',
    ];
    expectAscending(pypi, [...oneEpoch, ...oneEpoch.map((v) => `1!${v}`)]);
  });

  it('normalizes spellings, separators, case, implicit numbers and integers (packaging test_normalized_versions)', () => {
    const pairs = [
      ['1.0-RC1', '1.0rc1'],
      ['1.0c1', '1.0rc1'],
      ['1.0.preview', '1.0rc0'],
      ['1.0-pre_2', '1.0rc2'],
      ['1.0ALPHA', '1.0a0'],
      ['1.0.beta1', '1.0b1'],
      ['1.0-dev', '1.0.dev0'],
      ['1.0DEV1', '1.0.dev1'],
      ['1.0post', '1.0.post0'],
      ['1.0-5', '1.0.post5'],
      ['1.0-r5', '1.0.post5'],
      ['1.0.rev1', '1.0.post1'],
      ['1.0+AbC', '1.0+abc'],
      ['1.0+ubuntu-1', '1.0+ubuntu.1'],
      ['1.01', '1.1'],
      ['1.0c056', '1.0rc56'],
      ['1.1.dev09000', '1.1.dev9000'],
      ['00!1.2', '1.2'],
      ['0100!0.0', '100!0'],
      ['v1.0', '1.0'],
      ['   v1.0\t\n', '1.0'],
      ['1.0', '1.0.0'],
      ['1', '1.0.0.0.0'],
    ] as const;
    expect(equalMismatches(pypi, pairs)).toEqual([]);
  });

  it('puts dev releases before pre-releases, local versions after their public one, epochs above all', () => {
    expectAscending(pypi, [
      '1.0.dev0',
      '1.0a0',
      '1.0a1.dev1',
      '1.0a1',
      '1.0a1.post1',
      '1.0',
      '1.0+ubuntu.1',
      '1.0+ubuntu.2',
      '1.0+ubuntu.10',
      '1.0+ubuntu.10.1',
      '1.0.post1.dev0',
      '1.0.post1',
      '1.0.1',
      '2013.10',
      '1!0.1',
    ]);
  });

  it('refuses what packaging refuses', () => {
    // packaging test_invalid_versions, and spellings outside the grammar.
    const invalid = ['1.0+a+', '1.0++', '1.0+_foobar', '1.0+foo&asd', '1.0+1+1', '1.0-', '1.0+', '1!', '!1.0', 'vv1.0'];
    expect(accepted(pypi, [...invalid, '1.0.x', '1.0a1b1', '1.0.dev1.post1', '1.0ſ', ...GARBAGE])).toEqual([]);
  });
});

describe('RubyGems', () => {
  const gems = orderFor('RubyGems');

  it('orders prereleases (any letter) before their release, as Gem::Version#<=> does', () => {
    // rubygems test_gem_version.rb test_spaceship / test_semver, and version.rb's own sorting example.
    expectAscending(gems, [
      '0.0.beta',
      '0.beta.1',
      '0.9',
      '1.0.a.2',
      '1.0.a9',
      '1.0.a10',
      '1.0.b1',
      '1.0.b.2',
      '1.0.b10',
      '1.0',
      '1.0.1',
      '1.8.2.a',
      '1.8.2.b',
      '1.8.2',
      '1.15.0.pre.1',
      '1.15.0',
      '5.a',
      '5.0.0.rc2',
      '5.x',
    ]);
    expectAscending(gems, ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0']);
    expectAscending(gems, ['1.freeze.test', '1.0.0-1', '1']);
    expect(gems.compare('1.0.A', '1.0.a')).toBe(-1); // letters compare bytewise, case-sensitively
  });

  it('compares canonical segments: trailing zeros and "-" (read as ".pre.") as RubyGems does', () => {
    const pairs = [
      ['1.0', '1.0.0'],
      ['1.2.b1', '1.2.b.1'],
      ['0.beta.1', '0.0.beta.1'],
      ['1.0.0.a.1.0', '1.a.1'],
      ['1.2.3-1', '1.2.3.pre.1'],
      ['1.2.pre.1', '1.2.0.pre.1.0'],
      ['1.0.0-rc1', '1.0.0.pre.rc1'],
      ['1.01', '1.1'],
      ['1.0 ', '1.0'],
      ['\n1.0\n', '1.0'],
    ] as const;
    expect(equalMismatches(gems, pairs)).toEqual([]);
  });

  it('refuses malformed versions, the blank one included (RubyGems reads it as "0"; no gem has it)', () => {
    // test_initialize_invalid, including the CVE-2013-4287 string.
    const invalid = [
      'junk',
      '1.0\n2.0',
      '1..2',
      '1.2 3.4',
      '2.3422222.222.222222222.22222.ads0as.dasd0.ddd2222.2.qd3e.',
    ];
    expect(accepted(gems, [...invalid, 'a.1', '1.', '-1', '1.0+build', '1.0-', ...GARBAGE])).toEqual([]);
  });
});

describe('versionOrderFor', () => {
  it('names each scheme after its OSV ecosystem and knows no others', () => {
    const known = ['npm', 'PyPI', 'Go', 'crates.io', 'RubyGems'];
    expect(known.map((e) => versionOrderFor(e)?.scheme)).toEqual(known);
    expect(SEMVER_ORDER.scheme).toBe('SEMVER');
    const unknown = ['Maven', 'NuGet', 'Packagist', 'Hex', 'Pub', 'Debian:12', 'pypi', 'NPM', '', 'constructor'];
    expect(unknown.filter((e) => versionOrderFor(e) !== undefined)).toEqual([]);
  });

  it('returns undefined when either side is invalid, and frozen orders', () => {
    for (const order of [SEMVER_ORDER, orderFor('npm'), orderFor('PyPI'), orderFor('Go'), orderFor('RubyGems')]) {
      expect([order.compare('garbage', '1.0.0'), order.compare('1.0.0', '1..2')]).toEqual([undefined, undefined]);
      expect(Object.isFrozen(order)).toBe(true);
    }
  });

  it('stays correct past its parse cache, and for inputs too long to cache', () => {
    const npm = orderFor('npm');
    const wrong: number[] = [];
    for (let i = 0; i < 20_000; i++) if (npm.compare(`1.0.${i}`, `1.0.${i + 1}`) !== -1) wrong.push(i);
    expect(wrong).toEqual([]);
    const long = `1.0.0-${'a.'.repeat(200)}b`;
    expect([SEMVER_ORDER.compare(long, '1.0.0'), SEMVER_ORDER.compare(long, long)]).toEqual([-1, 0]);
  });
});
