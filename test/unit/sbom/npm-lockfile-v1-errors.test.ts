import { describe, expect, it } from 'vitest';
import { readNpmLockfile } from '../../../src/sbom/lockfiles/npm/lockfile.js';
import { thrown } from '../../helpers/errors.js';

const SHA1 = 'sha1-K0tC6BvM4dm7VHjScdgspbWQQtg=';

const v1 = (dependencies: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 1, requires: true, dependencies, ...extra });

describe('readNpmLockfile rejects malformed v1 lockfiles with located problems', () => {
  it('reports every shape problem with its dot-path, nested entries included', () => {
    const text = v1({
      a: { version: 1 },
      b: {
        version: '1.0.0',
        requires: { c: 2 },
        dependencies: { 'x/y': { version: '1.0.0' }, d: { version: '1.0.0', dev: 'yes' }, e: [] },
      },
    });
    const err = thrown(() => readNpmLockfile(text, 'package-lock.json'));
    expect(err.code).toBe('KILN_LOCKFILE_INVALID');
    expect(err.message).toMatch(/^package-lock\.json is not a valid npm lockfile \(5 problems\)/);
    expect(err.details?.problems).toEqual([
      expect.stringMatching(/^dependencies\.a\.version: /),
      expect.stringMatching(/^dependencies\.b\.requires\.c: /),
      'dependencies.b.dependencies["x/y"]: "x/y" is not an npm package name',
      expect.stringMatching(/^dependencies\.b\.dependencies\.d\.dev: /),
      expect.stringMatching(/^dependencies\.b\.dependencies\.e: /),
    ]);
  });

  it('reports unresolvable requires and bad integrity at their nested paths', () => {
    const text = v1({
      a: {
        version: '1.0.0',
        dependencies: { b: { version: '1.0.0', integrity: 'sha512-short', requires: { gone: '1' } } },
      },
    });
    expect(thrown(() => readNpmLockfile(text, 'package-lock.json')).details?.problems).toEqual([
      'dependencies.a.dependencies.b: depends on "gone" but no node_modules/gone is reachable from it',
      'dependencies.a.dependencies.b.integrity: has a malformed sha512 digest "sha512-short" (expected 64 base64 bytes)',
    ]);
  });

  it('rejects a top level that is not a v1 lockfile and names without a package', () => {
    const problems = (value: unknown) =>
      thrown(() => readNpmLockfile(JSON.stringify(value), 'l.json')).details?.problems;
    expect(problems({ lockfileVersion: 1, dependencies: [] })).toEqual([expect.stringMatching(/^dependencies: /)]);
    expect(problems({ lockfileVersion: 1, name: 'a', dependencies: { '..': { version: '1' } } })).toEqual([
      'dependencies[".."]: ".." is not an npm package name',
    ]);
    expect(problems({ lockfileVersion: 1, dependencies: {} })).toEqual(['name: the root project has no name']);
  });

  it('refuses nesting deeper than any file system path, without overflowing the stack', () => {
    let deps: Record<string, unknown> = { a: { version: '1.0.0' } };
    for (let i = 0; i < 400; i++) deps = { a: { version: '1.0.0', dependencies: deps } };
    const problems = thrown(() => readNpmLockfile(v1(deps), 'package-lock.json')).details?.problems as string[];
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^dependencies\.a(\.dependencies\.a)+: nested deeper than a path can be$/);
  });

  it('keeps hostile keys such as __proto__ as ordinary entries', () => {
    const text = `{"lockfileVersion":1,"name":"app","dependencies":{"__proto__":{"version":"1.0.0","integrity":"${SHA1}"},"constructor":{"version":"2.0.0","requires":{"__proto__":"1"}}}}`;
    const graph = readNpmLockfile(text, 'package-lock.json');
    expect(graph.components.map((c) => [c.ref, c.direct, c.dependsOn])).toEqual([
      ['pkg:npm/__proto__@1.0.0', false, []],
      ['pkg:npm/constructor@2.0.0', true, ['pkg:npm/__proto__@1.0.0']],
    ]);
  });

  it('names package.json when it is not JSON, is malformed, or lists a dependency the lockfile lacks', () => {
    const text = v1({ a: { version: '1.0.0' } });
    const read = (manifest: string) => () =>
      readNpmLockfile(text, 'package-lock.json', { manifest: { text: manifest, file: 'app/package.json' } });
    expect(thrown(read('{"name": "app",}')).message).toMatch(/^app\/package\.json:1:16: not valid JSON/);
    const bad = thrown(read('{"dependencies": {"a": 1}}'));
    expect(bad.message).toMatch(/^app\/package\.json is not a valid package\.json/);
    expect(bad.details?.problems).toEqual([expect.stringMatching(/^dependencies\.a: /)]);
    expect(thrown(read('{"name": "app", "dependencies": {"a": "1", "b": "2"}}')).details?.problems).toEqual([
      'app/package.json: depends on "b" but no node_modules/b is reachable from it',
    ]);
  });
});
