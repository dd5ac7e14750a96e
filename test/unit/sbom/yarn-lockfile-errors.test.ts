import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readYarnLockfile } from '../../../src/sbom/lockfiles/yarn/lockfile.js';
import { thrown } from '../../helpers/errors.js';

const manifest = (deps: Record<string, unknown> = { a: '^1.0.0' }, extra: Record<string, unknown> = {}) => ({
  text: JSON.stringify({ name: 'app', version: '1.0.0', dependencies: deps, ...extra }),
  file: 'package.json',
});
const classic = (...lines: string[]) => ['# yarn lockfile v1', '', ...lines, ''].join('\n');
const berry = (...lines: string[]) => ['__metadata:', '  version: 8', '  cacheKey: 10c0', '', ...lines, ''].join('\n');

const problemsOf = (text: string, m = manifest()) =>
  thrown(() => readYarnLockfile(text, 'yarn.lock', m)).details?.problems;

describe('readYarnLockfile rejects broken classic lockfiles with lines and paths', () => {
  it('names the file, the format, every problem and a hint', () => {
    const err = thrown(() => readYarnLockfile(classic('a@^1.0.0:', '   version "1.0.0"'), 'app/yarn.lock', manifest()));
    expect(err.code).toBe('KILN_LOCKFILE_INVALID');
    expect(err.message).toBe(
      'app/yarn.lock is not a valid yarn classic lockfile (1 problem):\n  line 4: is indented by 3 spaces, not a multiple of 2',
    );
    expect(err.hint).toMatch(/yarn install/);
    expect(err.details).toMatchObject({ file: 'app/yarn.lock', format: 'classic' });
  });

  it('reports broken indentation: too deep, tabs, and conflict markers', () => {
    const text = classic(
      'a@^1.0.0:',
      '  version "1.0.0"',
      '    resolved "x"',
      '      deeper "too"',
      '\tintegrity "y"',
      '<<<<<<< HEAD',
      'b@^1.0.0:',
      '  version "1.0.0"',
    );
    expect(problemsOf(text)).toEqual([
      'line 5: is indented by 4 spaces, deeper than the line above allows (at most 2)',
      'line 7: is indented with a tab; yarn indents with spaces',
      'line 8: has a merge conflict marker',
    ]);
  });

  it('reports unreadable lines with the column', () => {
    expect(problemsOf(classic('"a@^1.0.0:', '  version "1"'))).toEqual(['line 3: has an unterminated quoted string']);
    expect(problemsOf(classic('a@^1.0.0', '  version "1"'))).toEqual([
      'line 3: "a@^1.0.0" has neither a value nor a \':\' opening a block',
    ]);
    expect(problemsOf(classic('a@^1.0.0:', '  version "1" "2"'))).toEqual([
      'line 4: unexpected text after the value: "\\"2\\""',
    ]);
    expect(problemsOf(classic('a@^1.0.0:', '  version "1"', '  , "2"'))).toEqual([
      'line 5: expected a key or value at column 3, found ", \\"2\\""',
    ]);
  });

  it('reports an entry without version, a wrong shape and a bad integrity together', () => {
    const text = classic(
      'a@^1.0.0:',
      '  resolved "https://registry.yarnpkg.com/a/-/a-1.0.0.tgz"',
      '  dependencies "b"',
      'b@^1.0.0:',
      '  version "1.0.0"',
      '  integrity sha512-tooShort',
      'c@1 "1.0.0"',
    );
    expect(problemsOf(text)).toEqual([
      'line 3: ["a@^1.0.0"]: has no "version"',
      'line 5: ["a@^1.0.0"].dependencies: expected a block, found a value',
      'line 8: ["b@^1.0.0"].integrity: has a malformed sha512 digest "sha512-tooShort" (expected 64 base64 bytes)',
      'line 9: ["c@1"]: expected a block of fields, found a value',
    ]);
  });

  it('reports a descriptor that matches no entry, in the lockfile and in package.json', () => {
    const text = classic('a@^1.0.0:', '  version "1.0.0"', '  dependencies:', '    b "^2.0.0"');
    expect(problemsOf(text, manifest({ a: '^1.0.0', c: '1' }))).toEqual([
      'package.json: dependencies.c: "c@1" matches no entry of the lockfile',
      'line 6: ["a@^1.0.0"].dependencies.b: "b@^2.0.0" matches no entry of the lockfile',
    ]);
    const err = thrown(() => readYarnLockfile(text, 'yarn.lock', manifest()));
    expect(err.hint).toMatch(/^yarn\.lock must agree with package\.json/);
  });

  it('reports a descriptor filed under two entries, a field given twice and keys naming two packages', () => {
    const text = classic(
      'a@^1.0.0:',
      '  version "1.0.0"',
      '  version "1.0.1"',
      'a@^1.0.0, a@1.0.0:',
      '  version "1.0.0"',
      'x@1, y@1:',
      '  version "1"',
    );
    expect(problemsOf(text)).toEqual([
      'line 5: ["a@^1.0.0"].version: is given twice (first on line 4)',
      'line 8: ["x@1, y@1"]: keys name different packages (x, y)',
    ]);
    expect(problemsOf(classic('a@^1.0.0:', '  version "1.0.0"', '"a@^1.0.0":', '  version "1.0.1"'))).toEqual([
      'line 5: ["a@^1.0.0"]: "a@^1.0.0" is also the key of line 3: ["a@^1.0.0"]',
    ]);
  });

  it('reads package.json problems with their place', () => {
    const bad = { text: '{"name": "app",\n "dependencies": {"a": 1}}', file: 'package.json' };
    expect(thrown(() => readYarnLockfile(classic(), 'yarn.lock', bad)).message).toMatch(
      /^package\.json is not a valid package\.json:\n {2}dependencies\.a: /,
    );
    const broken = thrown(() => readYarnLockfile(classic(), 'yarn.lock', { text: '{\n"name" "x"}', file: 'p.json' }));
    expect(broken.message).toMatch(/^p\.json:2:8: not valid JSON/);
    const nameless = { text: '{"dependencies": {}}', file: 'package.json' };
    expect(problemsOf(classic(), nameless)).toEqual(['package.json: name: the root project has no name']);
  });
});

describe('readYarnLockfile rejects broken berry lockfiles with lines and paths', () => {
  it('reports YAML syntax errors (broken indentation) with their line', () => {
    const text = berry('"a@npm:^1.0.0":', '  version: 1.0.0', ' resolution: "a@npm:1.0.0"');
    const err = thrown(() => readYarnLockfile(text, 'yarn.lock', manifest()));
    expect(err.message).toMatch(
      /^yarn\.lock is not a valid yarn berry lockfile \(\d problems?\):\n {2}line 7: not valid YAML: /,
    );
    expect(err.details?.format).toBe('berry');
  });

  it('reports an entry without version or resolution, and a wrong shape', () => {
    const text = berry(
      '"a@npm:^1.0.0":',
      '  resolution: "a@npm:1.0.0"',
      '  dependencies:',
      '    - b',
      '"b@npm:^1.0.0":',
      '  version: 1.0.0',
      '"c@npm:1": 7',
    );
    expect(problemsOf(text)).toEqual([
      'line 5: ["a@npm:^1.0.0"]: has no "version"',
      'line 7: ["a@npm:^1.0.0"].dependencies: expected a map, found a list or alias',
      'line 9: ["b@npm:^1.0.0"]: has no "resolution"',
      'line 11: ["c@npm:1"]: expected a map, found a string',
    ]);
  });

  it('reports duplicate keys; an entry dependency that matches no entry is a construct Kiln cannot read', () => {
    const dup = berry('"a@npm:^1.0.0":', '  version: 1.0.0', '"a@npm:^1.0.0":', '  version: 1.0.0');
    expect(problemsOf(dup)).toEqual(['line 7: not valid YAML: Map keys must be unique']);
    const text = berry(
      '"a@npm:^1.0.0":',
      '  version: 1.0.0',
      '  resolution: "a@npm:1.0.0"',
      '  dependencies:',
      '    b: "npm:^2.0.0"',
    );
    // Berry writes every resolution it makes: a dependency Kiln cannot match is Kiln's gap, not the user's file.
    const err = thrown(() => readYarnLockfile(text, 'yarn.lock', manifest()));
    expect(err.code).toBe('KILN_LOCKFILE_UNSUPPORTED');
    expect(err.message).toBe(
      'Kiln cannot read this lockfile construct in yarn.lock:\n  line 9: ["a@npm:^1.0.0"].dependencies.b: "b@npm:^2.0.0" matches no entry of the lockfile',
    );
    expect(err.hint).toMatch(/not a fault of yarn\.lock; please report/);
    expect(err.hint).not.toMatch(/yarn install/);
  });

  it('turns hostile YAML (deep nesting, aliases, empty entries) into located problems', () => {
    const deep = berry(`"a@npm:^1.0.0": ${'['.repeat(50_000)}`);
    expect(thrown(() => readYarnLockfile(deep, 'yarn.lock', manifest())).code).toBe('KILN_LOCKFILE_INVALID');
    const text = berry('base: &b { version: 1.0.0 }', '"a@npm:^1.0.0": *b', '"b@npm:1":');
    expect(problemsOf(text)).toEqual([
      'line 5: base: has no "resolution"',
      'line 6: ["a@npm:^1.0.0"]: expected a map, found a list or alias',
      'line 7: ["b@npm:1"]: expected a map, found nothing',
    ]);
  });
});

describe('readYarnLockfile with berry resolutions', () => {
  const lock = readFileSync(
    join(import.meta.dirname, '../../fixtures/monorepos/yarn-berry-resolutions/yarn.lock'),
    'utf8',
  );
  const pkg = JSON.parse(
    readFileSync(join(import.meta.dirname, '../../fixtures/monorepos/yarn-berry-resolutions/package.json'), 'utf8'),
  ) as Record<string, unknown>;
  const root = (resolutions: Record<string, string>) => ({
    text: JSON.stringify({ ...pkg, resolutions }),
    file: 'package.json',
  });

  it('reads a lockfile yarn install --immutable accepts: entries keyed by the resolution', () => {
    const graph = readYarnLockfile(lock, 'yarn.lock', root(pkg.resolutions as Record<string, string>));
    const deps = (ref: string) => graph.components.find((c) => c.ref === ref)?.dependsOn;
    expect(deps('pkg:npm/debug@4.3.7')).toEqual(['pkg:npm/ms@2.1.2']);
    expect(deps('pkg:npm/is-odd@3.0.1')).toEqual(['pkg:npm/is-number@7.0.0']);
  });

  it('matches a parent by name and range, any parent after **/, and ranges with or without npm:', () => {
    const graph = readYarnLockfile(
      lock,
      'yarn.lock',
      root({ 'debug@4.3.7/ms@^2.1.3': 'npm:2.1.2', '**/is-odd/is-number': '7.0.0' }),
    );
    const deps = (ref: string) => graph.components.find((c) => c.ref === ref)?.dependsOn;
    expect(deps('pkg:npm/debug@4.3.7')).toEqual(['pkg:npm/ms@2.1.2']);
    expect(deps('pkg:npm/is-odd@3.0.1')).toEqual(['pkg:npm/is-number@7.0.0']);
    // A rule for another version of the parent does not apply: then nothing in the lockfile matches debug's ms.
    const other = thrown(() =>
      readYarnLockfile(lock, 'yarn.lock', root({ 'debug@4.0.0/ms': '2.1.2', 'is-odd/is-number': '7.0.0' })),
    );
    expect(other.code).toBe('KILN_LOCKFILE_UNSUPPORTED');
  });

  it('says what it cannot read as its own limit, with where it is', () => {
    const err = thrown(() => readYarnLockfile(lock, 'yarn.lock', root({ 'a/b/ms': '2.1.2' })));
    expect(err.code).toBe('KILN_LOCKFILE_UNSUPPORTED');
    expect(err.message).toContain('Kiln cannot read this lockfile construct in yarn.lock:');
    expect(err.message).toContain('package.json: resolutions["a/b/ms"]: a resolution path deeper than parent/name');
    expect(err.message).toMatch(
      /line 49: \["debug@npm:4\.3\.7"\]\.dependencies\.ms: "ms@npm:\^2\.1\.3" matches no entry/,
    );
  });
});
