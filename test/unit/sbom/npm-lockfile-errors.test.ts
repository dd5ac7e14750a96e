import { describe, expect, it } from 'vitest';
import { readNpmLockfile } from '../../../src/sbom/index.js';
import { thrown } from '../../helpers/errors.js';

const SHA1 = 'sha1-K0tC6BvM4dm7VHjScdgspbWQQtg=';

const lock = (packages: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 3, packages, ...extra });

describe('readNpmLockfile rejects what it cannot read, clearly', () => {
  it('names a missing lockfileVersion and packages map with their paths', () => {
    const err = thrown(() => readNpmLockfile(JSON.stringify({ name: 'a', dependencies: {} }), 'x/package-lock.json'));
    expect(err.message).toMatch(/^x\/package-lock\.json is not a valid npm lockfile \(2 problems\)/);
    expect(err.details?.problems).toEqual([
      'lockfileVersion: expected 1, 2 or 3 (the versions npm 5 and newer write)',
      expect.stringMatching(/^packages: /),
    ]);
  });

  it('refuses versions from the future', () => {
    const err = thrown(() =>
      readNpmLockfile(JSON.stringify({ lockfileVersion: 4, packages: {} }), 'package-lock.json'),
    );
    expect(err.message).toContain('lockfileVersion 4');
  });

  it('names file, line and column of a JSON syntax error', () => {
    const text = '{\n  "lockfileVersion": 3,\n  "packages": {\n    "": {}\n    "node_modules/a": {}\n  }\n}\n';
    const err = thrown(() => readNpmLockfile(text, 'package-lock.json'));
    expect(err.code).toBe('KILN_LOCKFILE_INVALID');
    expect(err.message).toContain('package-lock.json:5:5: not valid JSON');
    expect(err.details).toMatchObject({ line: 5, column: 5 });
  });

  it('reports every shape problem with its path', () => {
    const text = lock({
      '': { name: 'app' },
      'node_modules/a': { version: 1, dependencies: { b: true } },
      'node_modules/c': { dev: 'yes' },
    });
    const err = thrown(() => readNpmLockfile(text, 'package-lock.json'));
    expect(err.details?.problems).toEqual([
      expect.stringMatching(/^packages\["node_modules\/a"\]\.version: /),
      expect.stringMatching(/^packages\["node_modules\/a"\]\.dependencies\.b: /),
      expect.stringMatching(/^packages\["node_modules\/c"\]\.dev: /),
    ]);
  });

  it('reports a missing required dependency, a broken link and a bad integrity together', () => {
    const text = lock({
      '': { name: 'app', dependencies: { a: '1', w: '*' } },
      'node_modules/a': { version: '1.0.0', integrity: 'sha512-tooShort', dependencies: { gone: '^1' } },
      'node_modules/w': { resolved: 'packages/w', link: true },
    });
    const err = thrown(() => readNpmLockfile(text, 'package-lock.json'));
    expect(err.message).toContain('3 problems');
    expect(err.details?.problems).toEqual([
      'packages["node_modules/a"]: depends on "gone" but no node_modules/gone is reachable from it',
      'packages["node_modules/a"].integrity: has a malformed sha512 digest "sha512-tooShort" (expected 64 base64 bytes)',
      'packages["node_modules/w"]: link has target "packages/w", which has no entry of its own',
    ]);
  });

  it('allows missing optional and peer dependencies', () => {
    const text = lock({
      '': { name: 'app', dependencies: { a: '1' } },
      'node_modules/a': {
        version: '1.0.0',
        integrity: SHA1,
        optionalDependencies: { fsevents: '2' },
        peerDependencies: { react: '18' },
      },
    });
    const graph = readNpmLockfile(text, 'package-lock.json');
    expect(graph.components.map((c) => [c.ref, c.dependsOn, c.hashes])).toEqual([
      ['pkg:npm/a@1.0.0', [], [{ alg: 'SHA-1', hex: '2b4b42e81bcce1d9bb5478d271d82ca5b59042d8' }]],
    ]);
  });

  it('keeps hostile keys such as __proto__ as ordinary entries', () => {
    const text = `{"lockfileVersion":3,"name":"app","packages":{"":{"dependencies":{"__proto__":"1"}},"node_modules/__proto__":{"version":"1.0.0"}}}`;
    const graph = readNpmLockfile(text, 'package-lock.json');
    expect(graph.components.map((c) => [c.ref, c.direct])).toEqual([['pkg:npm/__proto__@1.0.0', true]]);
  });

  it('rejects non-object documents without crashing', () => {
    for (const text of ['null', '[]', '"x"', '3']) {
      expect(thrown(() => readNpmLockfile(text, 'package-lock.json')).code).toBe('KILN_LOCKFILE_INVALID');
    }
  });
});
