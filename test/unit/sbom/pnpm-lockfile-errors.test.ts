import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { readPnpmLockfile } from '../../../src/sbom/lockfiles/pnpm/lockfile.js';
import { thrown } from '../../helpers/errors.js';

const SHA1 = 'sha1-K0tC6BvM4dm7VHjScdgspbWQQtg=';
const LINUX = { os: 'linux', cpu: 'x64', libc: 'glibc' };

const read = (text: string, importer?: string) =>
  readPnpmLockfile(text, 'app/pnpm-lock.yaml', { platform: LINUX, ...(importer === undefined ? {} : { importer }) });
const v9 = (rest: Record<string, unknown>) => stringify({ lockfileVersion: '9.0', ...rest });
const dep = (version: string) => ({ specifier: '1', version });

describe('readPnpmLockfile rejects what it cannot read, clearly', () => {
  it('names file, line and column of a YAML syntax error', () => {
    const text = "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies: [a\n  b: 1\n";
    const err = thrown(() => read(text));
    expect(err.code).toBe('KILN_LOCKFILE_INVALID');
    expect(err.message).toMatch(/^app\/pnpm-lock\.yaml:5:\d+: not valid YAML: /);
    expect(err.details).toMatchObject({ file: 'app/pnpm-lock.yaml', line: 5 });
    expect(err.hint).toContain('pnpm install --lockfile-only');
  });

  it('refuses duplicate keys, which YAML forbids and a lenient reader would silently merge', () => {
    const err = thrown(() => read("lockfileVersion: '9.0'\nimporters: {}\nimporters: {}\n"));
    expect(err.message).toMatch(/:3:1: not valid YAML: Map keys must be unique/);
  });

  it('refuses lockfile versions it does not read, pointing at the pnpm that writes one it does', () => {
    const old = thrown(() => read('lockfileVersion: 5.4\nimporters: {}\n'));
    expect(old.message).toBe(
      "app/pnpm-lock.yaml has lockfileVersion 5.4; Kiln reads '6.0' and '9.0' (pnpm 8, 9 and 10)",
    );
    expect(old.hint).toContain('pnpm@9');
    const future = thrown(() => read("lockfileVersion: '10.0'\nimporters: {}\n"));
    expect(future.message).toContain('lockfileVersion "10.0"');
    expect(future.hint).toContain('Upgrade Kiln');
    expect(thrown(() => read('importers: {}\n')).details?.problems).toEqual([
      "lockfileVersion: missing (expected '6.0' and '9.0')",
    ]);
  });

  it('rejects documents that are not mappings without crashing', () => {
    for (const text of ['', '# only a comment\n', 'null\n', '- a\n', '3\n', '"x"\n']) {
      const err = thrown(() => read(text));
      expect(err.code).toBe('KILN_LOCKFILE_INVALID');
      expect(err.details?.problems).toEqual([expect.stringMatching(/^\(top level\): expected a mapping/)]);
    }
  });

  it('reports every shape problem with its path', () => {
    const text = v9({
      importers: { '.': { dependencies: { a: { specifier: '1', version: 1 } }, devDependencies: ['b'] } },
      packages: { 'a@1.0.0': { resolution: { integrity: 5 }, os: [3] } },
      snapshots: { 'a@1.0.0': { dependencies: { b: true } } },
    });
    const err = thrown(() => read(text));
    expect(err.message).toMatch(/^app\/pnpm-lock\.yaml is not a valid pnpm lockfile \(5 problems\):/);
    expect(err.details?.problems).toEqual([
      expect.stringMatching(/^importers\["\."\]\.dependencies\.a\.version: /),
      expect.stringMatching(/^importers\["\."\]\.devDependencies: /),
      expect.stringMatching(/^packages\["a@1\.0\.0"\]\.resolution\.integrity: /),
      expect.stringMatching(/^packages\["a@1\.0\.0"\]\.os: /),
      expect.stringMatching(/^snapshots\["a@1\.0\.0"\]\.dependencies\.b: /),
    ]);
  });

  it('reports dependencies pointing at missing keys, a snapshot without metadata and a bad integrity together', () => {
    const text = v9({
      importers: { '.': { dependencies: { a: dep('1.0.0'), gone: dep('2.0.0') } } },
      packages: { 'a@1.0.0': { resolution: { integrity: 'sha512-tooShort' } } },
      snapshots: {
        'a@1.0.0': { dependencies: { b: '1.0.0(c@1.0.0)' }, optionalDependencies: { '@s/o': '3.0.0' } },
        'orphan@1.0.0': {},
      },
    });
    const err = thrown(() => read(text));
    expect(err.details?.problems).toEqual([
      'snapshots["orphan@1.0.0"]: has no packages["orphan@1.0.0"] entry',
      'importers["."].dependencies.gone.version: "2.0.0" points at snapshots["gone@2.0.0"], which does not exist',
      'snapshots["a@1.0.0"].dependencies.b: "1.0.0(c@1.0.0)" points at snapshots["b@1.0.0(c@1.0.0)"], which does not exist',
      'snapshots["a@1.0.0"].optionalDependencies["@s/o"]: "3.0.0" points at snapshots["@s/o@3.0.0"], which does not exist',
      'packages["a@1.0.0"].resolution.integrity: has a malformed sha512 digest "sha512-tooShort" (expected 64 base64 bytes)',
    ]);
  });

  it('locates dangling references in 6.0 lockfiles by their packages key', () => {
    const text = stringify({
      lockfileVersion: '6.0',
      dependencies: { a: dep('1.0.0') },
      packages: { '/a@1.0.0': { resolution: { integrity: SHA1 }, dependencies: { b: '1.0.0' } } },
    });
    expect(thrown(() => read(text)).details?.problems).toEqual([
      'packages["/a@1.0.0"].dependencies.b: "1.0.0" points at packages["/b@1.0.0"], which does not exist',
    ]);
  });

  it('needs a name for keys that are not name@version', () => {
    const text = stringify({
      lockfileVersion: '6.0',
      dependencies: { repo: dep('github.com/user/repo/abc123'), named: dep('github.com/user/named/def456') },
      packages: {
        'github.com/user/repo/abc123': { resolution: { tarball: 'https://codeload.github.com/x' } },
        'github.com/user/named/def456': { name: 'named', version: '1.2.0', resolution: { type: 'git' } },
      },
    });
    expect(thrown(() => read(text)).details?.problems).toEqual([
      'packages["github.com/user/repo/abc123"]: the key is not name@version and the entry has no "name"',
    ]);
  });

  it('tells a wrong importer apart from a lockfile without a root project', () => {
    const text = v9({ importers: { 'packages/a': {} } });
    const usage = thrown(() => read(text, 'packages/b'));
    expect(usage.code).toBe('KILN_USAGE');
    expect(usage.message).toBe('app/pnpm-lock.yaml has no importer "packages/b" (importers: packages/a)');
    expect(thrown(() => read(text)).details?.problems).toEqual([
      'importers: has no "." (the root project); has packages/a',
    ]);
  });

  it('refuses alias bombs (pnpm writes no aliases)', () => {
    // 10^12 strings once expanded: each level repeats the one before ten times.
    const lines = ["lockfileVersion: '9.0'", 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const err = thrown(() => read(lines.join('\n')));
    expect(err.code).toBe('KILN_LOCKFILE_INVALID');
    expect(err.message).toMatch(/^app\/pnpm-lock\.yaml: not a readable lockfile: Excessive alias count/);
  });

  it('keeps hostile keys such as __proto__ as ordinary entries', () => {
    const text = [
      "lockfileVersion: '9.0'",
      'importers:',
      '  .:',
      '    dependencies:',
      '      __proto__: {specifier: "1", version: 1.0.0}',
      'packages:',
      `  __proto__@1.0.0: {resolution: {integrity: "${SHA1}"}}`,
      'snapshots:',
      '  __proto__@1.0.0: {}',
      '',
    ].join('\n');
    expect(read(text).components.map((c) => [c.ref, c.direct])).toEqual([['pkg:npm/__proto__@1.0.0', true]]);
  });
});

describe('readPnpmLockfile reads what pnpm writes beyond the fixtures', () => {
  it('reads the last document of a multi-document lockfile (pnpm 11+ env document first)', () => {
    const env = v9({
      importers: { '.': { packageManagerDependencies: { pnpm: dep('11.0.0') } } },
      packages: { 'pnpm@11.0.0': { resolution: { integrity: SHA1 } } },
      snapshots: { 'pnpm@11.0.0': {} },
    });
    const project = v9({
      importers: { '.': { dependencies: { a: dep('1.0.0') } } },
      packages: { 'a@1.0.0': { resolution: { integrity: SHA1 } } },
      snapshots: { 'a@1.0.0': {} },
    });
    expect(read(`---\n${env}---\n${project}`).components.map((c) => c.ref)).toEqual(['pkg:npm/a@1.0.0']);
  });

  it('merges peer variants of one package into one component and keeps each variant’s edges', () => {
    const text = v9({
      importers: {
        '.': { dependencies: { r: dep('1.0.0'), ui: dep('2.0.0(r@1.0.0)'), old: dep('link:packages/old') } },
        'packages/old': { dependencies: { ui: dep('2.0.0(r@0.9.0)') } },
      },
      packages: {
        'r@1.0.0': { resolution: { integrity: SHA1 } },
        'r@0.9.0': { resolution: { integrity: SHA1 } },
        'ui@2.0.0': { resolution: { integrity: SHA1 }, peerDependencies: { r: '*' } },
      },
      snapshots: {
        'r@1.0.0': {},
        'r@0.9.0': {},
        'ui@2.0.0(r@1.0.0)': { dependencies: { r: '1.0.0' } },
        'ui@2.0.0(r@0.9.0)': { dependencies: { r: '0.9.0' } },
      },
    });
    const projects = { 'packages/old': { name: 'old', version: '0.0.1' } };
    const root = readPnpmLockfile(text, 'pnpm-lock.yaml', { platform: LINUX, projects });
    expect(root.components.map((c) => [c.ref, c.direct, c.dependsOn])).toEqual([
      ['pkg:npm/old@0.0.1', true, ['pkg:npm/ui@2.0.0']],
      ['pkg:npm/r@0.9.0', false, []],
      ['pkg:npm/r@1.0.0', true, []],
      ['pkg:npm/ui@2.0.0', true, ['pkg:npm/r@0.9.0', 'pkg:npm/r@1.0.0']], // both variants, one component
    ]);
    const old = readPnpmLockfile(text, 'pnpm-lock.yaml', { platform: LINUX, projects, importer: 'packages/old' });
    expect(old.components.map((c) => [c.ref, c.dependsOn])).toEqual([
      ['pkg:npm/r@0.9.0', []],
      ['pkg:npm/ui@2.0.0', ['pkg:npm/r@0.9.0']], // only the variant this project installs
    ]);
  });

  it('takes real names from aliases and name/version fields, and leaves a link back to the root out', () => {
    const text = stringify({
      lockfileVersion: '6.0',
      importers: {
        '.': {
          dependencies: {
            'ms-old': dep('/ms@2.0.0'),
            named: dep('github.com/user/named/def456'),
            util: dep('link:packages/util'),
          },
        },
        'packages/util': { dependencies: { app: dep('link:../..') } },
      },
      packages: {
        '/ms@2.0.0': { resolution: { integrity: SHA1 } },
        'github.com/user/named/def456': { name: 'named', version: '1.2.0', resolution: { tarball: 'x' } },
      },
    });
    expect(read(text).components.map((c) => [c.ref, c.dependsOn, c.hashes.length])).toEqual([
      ['pkg:npm/ms@2.0.0', [], 1],
      ['pkg:npm/named@1.2.0', [], 0],
      ['pkg:npm/util', [], 0],
    ]);
  });
});
