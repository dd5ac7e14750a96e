import { promises as fsp, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../../../src/core/digest.js';
import type { SourceView } from '../../../src/plan/source-view.js';
import type { ComponentGraph } from '../../../src/sbom/graph.js';
import { readCargoLockfile } from '../../../src/sbom/lockfiles/cargo/lockfile.js';
import { cargoPurl, parseCargoSource } from '../../../src/sbom/lockfiles/cargo/purl.js';
import { parseToml } from '../../../src/sbom/lockfiles/toml/toml.js';
import { makeSbom } from '../../../src/sbom/make.js';
import { thrown } from '../../helpers/errors.js';
import { tempDir } from '../../helpers/tmp.js';

const fixture = (path: string) => readFileSync(new URL(`../../fixtures/sbom/${path}`, import.meta.url), 'utf8');
const LOCKS = {
  v1: fixture('cargo-v1/Cargo.lock'),
  v2: fixture('cargo-v2/Cargo.lock'),
  v3: fixture('cargo-v3/Cargo.lock'),
  v4: fixture('cargo-v4/Cargo.lock'),
};
const GIT = 'git%2Bfile:///srv/kiln-fixtures/gitdep%40ab90ffa06abe2a33e99f8a512527a3ca0d4d710e';
const CRATES_IO = 'registry+https://github.com/rust-lang/crates.io-index';

const get = (g: ComponentGraph, ref: string) => {
  const c = g.components.find((x) => x.ref === ref);
  if (c === undefined) throw new Error(`no component ${ref}`);
  return c;
};

describe('readCargoLockfile on lockfiles cargo wrote for one workspace (see test/fixtures/sbom/cargo-v4/README.md)', () => {
  const v4 = readCargoLockfile(LOCKS.v4, 'Cargo.lock');

  it('are the four formats', () => {
    expect(LOCKS.v4).toMatch(/^version = 4$/m);
    expect(LOCKS.v3).toMatch(/^version = 3$/m);
    expect(LOCKS.v2).not.toMatch(/^version = \d/m);
    expect(LOCKS.v2).toMatch(/^checksum = /m);
    expect(LOCKS.v1).toMatch(/^\[metadata\]$/m);
    expect(LOCKS.v1).not.toMatch(/^checksum = /m);
  });

  it('reads every format into the same graph', () => {
    for (const text of [LOCKS.v1, LOCKS.v2, LOCKS.v3]) {
      const g = readCargoLockfile(text, 'Cargo.lock');
      expect(g.components).toEqual(v4.components);
      expect(g.root).toEqual(v4.root);
      expect(g.lockfile).toEqual({ path: 'Cargo.lock', digest: sha256Digest(text) });
    }
  });

  it('lists the 12 locked crates but the root: the one local crate nothing depends on', () => {
    expect(LOCKS.v4.match(/^\[\[package\]\]$/gm)).toHaveLength(12);
    expect(v4.components).toHaveLength(11);
    expect(v4.root).toEqual({ name: 'kiln-app', version: '0.1.0', ref: 'pkg:cargo/kiln-app@0.1.0' });
    expect(v4.components.every((c) => c.scope === 'runtime')).toBe(true); // Cargo.lock has no dev marking
  });

  it('takes registry checksums as SHA-256 and gives git and path crates none', () => {
    // crates.io's sha256 of serde_json-1.0.87.crate and anyhow-1.0.69.crate, as in public lockfiles and in the
    // crates.io download URLs that Bazel rules pin (https://crates.io/api/v1/crates/serde_json/1.0.87/download).
    expect(get(v4, 'pkg:cargo/serde_json@1.0.87').hashes).toEqual([
      { alg: 'SHA-256', hex: '6ce777b7b150d76b9cf60d28b55f5847135a003f7d7350c6be7a773508ce7d45' },
    ]);
    expect(get(v4, 'pkg:cargo/anyhow@1.0.69').hashes).toEqual([
      { alg: 'SHA-256', hex: '224afbd727c3d6e4b90103ece64b8d1b67fbb1973b1046c2281eed3f3803f800' },
    ]);
    expect(get(v4, `pkg:cargo/kiln-gitdep@0.3.1?vcs_url=${GIT}`).hashes).toEqual([]);
    expect(get(v4, 'pkg:cargo/kiln-util@0.2.0').hashes).toEqual([]);
  });

  it('tells one name and version from two sources apart, and two versions of one name', () => {
    expect(v4.components.filter((c) => c.name === 'memchr').map((c) => c.ref)).toEqual([
      'pkg:cargo/memchr@2.5.0',
      `pkg:cargo/memchr@2.5.0?vcs_url=${GIT}`,
    ]);
    expect(get(v4, 'pkg:cargo/kiln-util@0.2.0').dependsOn).toEqual([
      'pkg:cargo/kiln-localdep@0.0.1',
      `pkg:cargo/memchr@2.5.0?vcs_url=${GIT}`, // "memchr 2.5.0 (git+file:///…?branch=main)", no #commit
      'pkg:cargo/serde@1.0.152',
    ]);
    expect(get(v4, 'pkg:cargo/kiln-localdep@0.0.1').dependsOn).toEqual(['pkg:cargo/memchr@2.5.0']);
    expect(get(v4, 'pkg:cargo/serde_json@1.0.87').dependsOn).toEqual([
      'pkg:cargo/itoa@1.0.1', // "itoa 1.0.1": two versions are locked
      'pkg:cargo/ryu@1.0.2', // "ryu": only one is
      'pkg:cargo/serde@1.0.152',
    ]);
  });

  it('marks the root crate’s dependencies (normal and dev alike) direct', () => {
    expect(v4.components.filter((c) => c.direct).map((c) => c.ref)).toEqual([
      'pkg:cargo/anyhow@1.0.69',
      `pkg:cargo/itoa@0.4.8?vcs_url=${GIT}`,
      'pkg:cargo/itoa@1.0.1', // a dev-dependency of kiln-app
      `pkg:cargo/kiln-gitdep@0.3.1?vcs_url=${GIT}`,
      'pkg:cargo/kiln-util@0.2.0',
      'pkg:cargo/serde_json@1.0.87',
    ]);
  });
});

describe('Cargo purls', () => {
  it('qualifies crates that are not from crates.io', () => {
    const sparse = parseCargoSource('sparse+https://index.crates.io/');
    const other = parseCargoSource('sparse+https://my.registry.example/index/');
    const git = parseCargoSource(
      'git+https://github.com/rust-lang/regex?tag=1.0.0#0123456789abcdef0123456789abcdef01234567',
    );
    if (!sparse || !other || !git) throw new Error('unparsed');
    expect(cargoPurl('regex', '1.0.0', sparse)).toBe('pkg:cargo/regex@1.0.0');
    expect(cargoPurl('regex', '1.0.0', other)).toBe(
      'pkg:cargo/regex@1.0.0?repository_url=https://my.registry.example/index/',
    );
    expect(cargoPurl('regex', '1.0.0', git)).toBe(
      'pkg:cargo/regex@1.0.0?vcs_url=git%2Bhttps://github.com/rust-lang/regex%400123456789abcdef0123456789abcdef01234567',
    );
    expect(parseCargoSource('path+file:///x')).toBeUndefined();
    expect(parseCargoSource('git+https://example.com/x')).toBeUndefined(); // a git source is always pinned
  });
});

describe('readCargoLockfile on other shapes', () => {
  const crate = (name: string, version: string, extra = '') =>
    `[[package]]\nname = "${name}"\nversion = "${version}"\n${extra}\n`;
  const sum = (c: string) => `checksum = "${c.repeat(64)}"\n`;

  it('makes a virtual workspace (several unreferenced local crates) the root, its members direct', () => {
    const text = `version = 3\n\n${crate('cli', '1.0.0', 'dependencies = [\n "libc",\n]')}${crate('daemon', '2.0.0')}${crate('libc', '0.2.155', `source = "${CRATES_IO}"\n${sum('a')}`)}`;
    const g = readCargoLockfile(text, 'Cargo.lock');
    expect(g.root).toEqual({ name: 'cargo-workspace', version: '', ref: 'pkg:generic/cargo-workspace' });
    expect(g.components.map((c) => [c.ref, c.direct])).toEqual([
      ['pkg:cargo/cli@1.0.0', true],
      ['pkg:cargo/daemon@2.0.0', true],
      ['pkg:cargo/libc@0.2.155', false],
    ]);
    const named = readCargoLockfile(text, 'Cargo.lock', { root: { name: 'tools', version: '3.0.0' } });
    expect(named.root.ref).toBe('pkg:cargo/tools@3.0.0');
    expect(named.components.filter((c) => c.direct).map((c) => c.name)).toEqual(['cli', 'daemon']);
  });

  it('reads the `[root]` table of early format-1 lockfiles, and `<none>` checksums', () => {
    const text = `[root]\nname = "app"\nversion = "0.1.0"\ndependencies = [\n "libc 0.2.18 (${CRATES_IO})",\n]\n\n${crate('libc', '0.2.18', `source = "${CRATES_IO}"`)}[metadata]\n"checksum libc 0.2.18 (${CRATES_IO})" = "<none>"\n`;
    const g = readCargoLockfile(text, 'Cargo.lock');
    expect(g.root.name).toBe('app');
    expect(g.components).toMatchObject([{ ref: 'pkg:cargo/libc@0.2.18', direct: true, hashes: [] }]);
  });

  it('sends edges to a `replace`d crate on to its replacement', () => {
    const git = 'git+https://example.com/libc#0123456789abcdef0123456789abcdef01234567';
    const text = `version = 3\n\n${crate('app', '0.1.0', 'dependencies = [\n "libc 0.2.18 (registry+https://github.com/rust-lang/crates.io-index)",\n]')}${crate('libc', '0.2.18', `source = "${CRATES_IO}"\nreplace = "libc 0.2.18 (git+https://example.com/libc)"`)}${crate('libc', '0.2.18', `source = "${git}"`)}`;
    const g = readCargoLockfile(text, 'Cargo.lock');
    expect(g.components.map((c) => [c.ref, c.direct])).toEqual([
      ['pkg:cargo/libc@0.2.18?vcs_url=git%2Bhttps://example.com/libc%400123456789abcdef0123456789abcdef01234567', true],
    ]);
  });

  it('reads an empty lockfile as a project without dependencies', () => {
    const g = readCargoLockfile('# This file is automatically @generated by Cargo.\nversion = 3\n', 'Cargo.lock');
    expect(g.components).toEqual([]);
  });
});

describe('readCargoLockfile refuses malformed lockfiles, naming file and line', () => {
  const base = LOCKS.v4;

  it('names the line and column of a TOML error', () => {
    const err = thrown(() => readCargoLockfile(base.replace('name = "ryu"', 'name = "ryu'), 'Cargo.lock'));
    expect(err.code).toBe('KILN_LOCKFILE_INVALID');
    const line = base.split('\n').indexOf('name = "ryu"') + 1;
    expect(err.message).toBe(`Cargo.lock:${line}:8: not valid TOML: a single-line string cannot contain a newline`);
  });

  it('refuses the placeholder Debian writes for unknown checksums, and a dependency nothing matches', () => {
    const text = base
      .replace(
        'checksum = "2dffe52ecf27772e601905b7522cb4ef790d2cc203488bbd0e2fe85fcb74566d"',
        'checksum = "Could not get crate checksum"',
      )
      .replace(' "ryu",\n', ' "ryu 9.9.9",\n');
    const err = thrown(() => readCargoLockfile(text, 'Cargo.lock'));
    const lines = text.split('\n');
    const sumLine = lines.indexOf('checksum = "Could not get crate checksum"') + 1;
    expect(err.message).toContain(
      `Cargo.lock:${sumLine}: "checksum" must be 64 lowercase hex digits (SHA-256), found "Could not get crate checksum"`,
    );
    expect(err.message).toContain(
      'package "serde_json 1.0.87": depends on "ryu 9.9.9", which the lockfile does not list',
    );
    expect(err.message).toContain('(2 problems)');
    expect(err.hint).toContain('cargo generate-lockfile');
  });

  it('refuses an entry that matches two crates, a missing name and an unknown source kind', () => {
    const text = base
      .replace(' "itoa 0.4.8",\n', ' "itoa",\n')
      .replace('name = "ryu"\n', '')
      .replace(
        'name = "anyhow"\nversion = "1.0.69"\nsource = "registry+',
        'name = "anyhow"\nversion = "1.0.69"\nsource = "svn+',
      );
    const err = thrown(() => readCargoLockfile(text, 'Cargo.lock'));
    expect(err.message).toMatch(/Cargo\.lock:\d+: "name" must be a non-empty string, found nothing/);
    expect(err.message).toMatch(
      /Cargo\.lock:\d+: "source" "svn\+https:\/\/github.com\/rust-lang\/crates.io-index" is not a registry or git source/,
    );
    const again = thrown(() => readCargoLockfile(base.replace(' "itoa 0.4.8",\n', ' "itoa",\n'), 'Cargo.lock'));
    expect(again.message).toContain('package "kiln-app 0.1.0": depends on "itoa", which matches 2 packages');
  });

  it('refuses a format newer than 4', () => {
    const err = thrown(() => readCargoLockfile(base.replace('version = 4', 'version = 5'), 'Cargo.lock'));
    expect(err.message).toBe('Cargo.lock:3: Cargo.lock version 5; Kiln reads 1 to 4');
  });
});

describe('parseToml (the reader behind Cargo.lock, poetry.lock, uv.lock and pyproject.toml)', () => {
  const ok = (text: string) => {
    const r = parseToml(text);
    if (!r.ok) throw new Error(`${r.line}:${r.column}: ${r.reason}`);
    return r.doc;
  };
  const bad = (text: string) => {
    const r = parseToml(text);
    if (r.ok) throw new Error('parsed');
    return `${r.line}:${r.column}: ${r.reason}`;
  };

  it('reads the TOML 1.0 value forms (examples of toml.io/en/v1.0.0)', () => {
    const doc = ok(
      [
        'str = "I\'m a string. \\"You can quote me\\". Name\\tJos\\u00E9\\nLocation\\tSF."',
        "winpath = 'C:\\Users\\nodejs\\templates'",
        'str2 = """\nRoses are red\nViolets are blue"""',
        'str3 = """\\\n  The quick brown \\\n  fox."""',
        "re = '''I [dw]on't need \\d{2} apples'''",
        'int = +99',
        'hex = 0xDEADBEEF',
        'big = 1_000',
        'flt = 6.626e-34',
        'neg = -inf',
        'odt = 1979-05-27T07:32:00Z',
        'bool = false',
        'arr = [ 1, 2, # comment',
        '  3, ]',
        'point = { x = 1, y = { z = "deep" } }',
        'site."google.com" = true',
        '__proto__ = "plain key"',
      ].join('\n'),
    );
    expect(JSON.parse(JSON.stringify(doc.root))).toEqual({
      str: 'I\'m a string. "You can quote me". Name\tJosé\nLocation\tSF.',
      winpath: 'C:\\Users\\nodejs\\templates',
      str2: 'Roses are red\nViolets are blue',
      str3: 'The quick brown fox.',
      re: "I [dw]on't need \\d{2} apples",
      int: 99,
      hex: 3735928559,
      big: 1000,
      flt: 6.626e-34,
      neg: null, // -Infinity, which JSON cannot hold
      odt: '1979-05-27T07:32:00Z',
      bool: false,
      arr: [1, 2, 3],
      point: { x: 1, y: { z: 'deep' } },
      site: { 'google.com': true },
      ['__proto__']: 'plain key', // an own key (a literal `__proto__:` would set the prototype)
    });
    expect(Object.getPrototypeOf(doc.root)).toBeNull();
  });

  it('nests arrays of tables and sub-tables, and knows each key’s line', () => {
    const doc = ok(
      '[[fruit]]\nname = "apple"\n\n[fruit.physical]\ncolor = "red"\n\n[[fruit.variety]]\nname = "red delicious"\n\n[[fruit]]\nname = "banana"\n',
    );
    const fruit = doc.root.fruit as readonly { [k: string]: unknown }[];
    expect(JSON.parse(JSON.stringify(fruit))).toEqual([
      { name: 'apple', physical: { color: 'red' }, variety: [{ name: 'red delicious' }] },
      { name: 'banana' },
    ]);
    const [apple, banana] = doc.root.fruit as never[];
    if (!apple || !banana) throw new Error('no fruit');
    expect([doc.line(apple), doc.line(apple, 'name'), doc.line(banana), doc.line(banana, 'name')]).toEqual([
      1, 2, 10, 11,
    ]);
  });

  it('refuses what TOML forbids, saying where', () => {
    expect(bad('a = 1\na = 2')).toBe('2:1: key "a" is defined twice');
    expect(bad('[t]\n[t]')).toBe('2:1: table "t" is defined twice');
    expect(bad('t = { a = 1 }\n[t]')).toBe('2:1: table "t" is defined twice');
    expect(bad('a = [1]\n[[a]]')).toBe('2:1: "a" is already defined and is not an array of tables');
    expect(bad('a = "open')).toBe('1:5: unterminated string');
    expect(bad('a = "x\u0001y"')).toBe('1:7: control character U+0001 must be escaped');
    expect(bad('a = "\\q"')).toBe('1:6: invalid escape "\\q"');
    expect(bad('a = 01')).toBe('1:5: expected a value (string, number, boolean, date, array or inline table)');
    expect(bad('a = 1 b = 2')).toBe('1:7: expected the end of the line');
    expect(bad('a = [1, 2')).toBe("1:10: expected ',' or ']' in an array");
    expect(bad('a.b = 1\na.b.c = 2')).toBe('2:1: key "b" is already defined as a value');
    expect(bad(`a = ${'['.repeat(100000)}`)).toBe('1:69: values nested more than 64 deep');
    expect(bad(`a = ${'{ b = '.repeat(65)}1`)).toBe('1:389: values nested more than 64 deep');
  });
});

describe('makeSbom with a committed Cargo.lock', () => {
  it('lists its crates in both documents and names no unread lockfile', async () => {
    const dir = tempDir('kiln-cargo-sbom-');
    writeFileSync(join(dir, 'Cargo.lock'), LOCKS.v4);
    const view = { projectDir: dir, readFile: (p: string) => fsp.readFile(p) } as unknown as SourceView; // the two members makeSbom uses
    const source = { commit: 'a'.repeat(40), sourceDateEpoch: 1700000000, subdir: '' } as never;
    const sbom = await makeSbom({ view, source, config: { name: 'cargo-app' }, kilnVersion: '0.0.0-test' });
    expect(sbom.warnings).toEqual([]);
    expect(sbom.lockfiles).toEqual([{ path: 'Cargo.lock', digest: sha256Digest(LOCKS.v4) }]);
    const bom = sbom.bom as {
      components: { purl: string; hashes?: { content: string }[] }[];
      metadata: { component: { name: string } };
    };
    expect(bom.metadata.component.name).toBe('kiln-app');
    expect(bom.components.map((c) => c.purl)).toContain('pkg:cargo/serde_json@1.0.87');
    expect(bom.components.find((c) => c.purl === 'pkg:cargo/serde_json@1.0.87')?.hashes?.[0]?.content).toBe(
      '6ce777b7b150d76b9cf60d28b55f5847135a003f7d7350c6be7a773508ce7d45',
    );
  });
});
