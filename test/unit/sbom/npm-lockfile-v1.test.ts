import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ComponentGraph } from '../../../src/sbom/index.js';
import { readNpmLockfile } from '../../../src/sbom/lockfiles/npm/lockfile.js';

const fixture = (path: string) => readFileSync(new URL(`../../fixtures/sbom/${path}`, import.meta.url), 'utf8');
const V1 = fixture('npm-nested-v1/package-lock.json');
const V3 = fixture('npm-nested-v3/package-lock.json');
const manifest = { text: fixture('npm-nested-v1/package.json'), file: 'package.json' };

const directRefs = (g: ComponentGraph) => g.components.filter((c) => c.direct).map((c) => c.ref);
const get = (g: ComponentGraph, ref: string) => {
  const c = g.components.find((x) => x.ref === ref);
  if (c === undefined) throw new Error(`no component ${ref}`);
  return c;
};

describe('readNpmLockfile on an npm 6 lockfile (v1)', () => {
  const v1 = readNpmLockfile(V1, 'package-lock.json', { manifest });
  const v3 = readNpmLockfile(V3, 'package-lock.json');

  it('is a real v1 file with packages nested two levels deep', () => {
    const lock = JSON.parse(V1);
    expect(lock.lockfileVersion).toBe(1);
    expect(lock.packages).toBeUndefined();
    expect(lock.dependencies.send.dependencies.debug.dependencies.ms.version).toBe('2.0.0');
    expect(JSON.parse(V3).lockfileVersion).toBe(3);
  });

  it('gives the graph npm 11 gives for the same package.json, except licenses, which v1 does not record', () => {
    const withoutLicense = (g: ComponentGraph) => g.components.map(({ license, ...c }) => c);
    expect(withoutLicense(v1)).toEqual(withoutLicense(v3));
    expect(v1.root).toEqual(v3.root);
    expect(v1.components).toHaveLength(24); // 25 installed folders; ms@2.0.0 twice (send/…/debug/…/ms, ms-old)
    expect(v1.components.every((c) => c.license === undefined)).toBe(true);
    expect(v3.components.every((c) => c.license !== undefined)).toBe(true);
  });

  it('keeps nested packages and resolves requires from the nearest node_modules up', () => {
    expect(get(v1, 'pkg:npm/debug@4.3.4').dependsOn).toEqual(['pkg:npm/ms@2.1.2']); // the top-level ms
    expect(get(v1, 'pkg:npm/send@0.18.0').dependsOn).toContain('pkg:npm/debug@2.6.9'); // send/node_modules/debug
    expect(get(v1, 'pkg:npm/send@0.18.0').dependsOn).toContain('pkg:npm/ms@2.1.3'); // send/node_modules/ms
    expect(get(v1, 'pkg:npm/send@0.18.0').dependsOn).toContain('pkg:npm/statuses@2.0.1'); // hoisted to the top
    expect(get(v1, 'pkg:npm/debug@2.6.9').dependsOn).toEqual(['pkg:npm/ms@2.0.0']); // two levels down
  });

  it('reads aliases, scopes and integrity as v3 does', () => {
    expect(get(v1, 'pkg:npm/ms@2.0.0').name).toBe('ms'); // also node_modules/ms-old: "npm:ms@2.0.0"
    expect(v1.components.some((c) => c.name === 'ms-old')).toBe(false);
    expect(get(v1, 'pkg:npm/kind-of@6.0.3').scope).toBe('dev');
    expect(get(v1, 'pkg:npm/is-odd@3.0.1').scope).toBe('optional');
    expect(get(v1, 'pkg:npm/is-number@6.0.0').scope).toBe('optional');
    expect(get(v1, 'pkg:npm/send@0.18.0').hashes).toEqual([
      { alg: 'SHA-512', hex: expect.stringMatching(/^[0-9a-f]{128}$/) },
    ]);
  });

  it('takes direct dependencies from package.json', () => {
    expect(directRefs(v1)).toEqual([
      'pkg:npm/debug@4.3.4',
      'pkg:npm/inherits@2.0.4',
      'pkg:npm/is-odd@3.0.1',
      'pkg:npm/kind-of@6.0.3',
      'pkg:npm/ms@2.0.0',
      'pkg:npm/send@0.18.0',
    ]);
  });

  it('without package.json, takes as direct the top-level packages nothing requires', () => {
    const bare = readNpmLockfile(V1, 'package-lock.json');
    // inherits is direct but also required by http-errors: v1 alone cannot tell. Everything else is the same.
    expect(directRefs(bare)).toEqual(directRefs(v1).filter((ref) => ref !== 'pkg:npm/inherits@2.0.4'));
    expect(bare.components.map((c) => c.dependsOn)).toEqual(v1.components.map((c) => c.dependsOn));
  });

  it('reads v1 written by npm 7+ (--lockfile-version 1)', () => {
    const graph = readNpmLockfile(fixture('npm-v1/package-lock.json'), 'package-lock.json');
    expect(graph.root.ref).toBe('pkg:npm/kiln-fixture-v1@1.0.0');
    expect(graph.components.map((c) => [c.ref, c.direct])).toEqual([['pkg:npm/ms@2.1.3', true]]);
  });

  it('reads bundled dependencies as v3 does (installed below the package that bundles them)', () => {
    const b = { version: '1.0.0', integrity: 'sha1-K0tC6BvM4dm7VHjScdgspbWQQtg=' };
    const a = { version: '2.0.0', requires: { b: '^1.0.0' } };
    const v1Text = JSON.stringify({
      name: 'app',
      version: '1.0.0',
      lockfileVersion: 1,
      dependencies: { a: { ...a, dependencies: { b: { ...b, bundled: true } } } },
    });
    const v3Text = JSON.stringify({
      name: 'app',
      version: '1.0.0',
      lockfileVersion: 3,
      packages: {
        '': { name: 'app', version: '1.0.0', dependencies: { a: '2.0.0' } },
        'node_modules/a': { version: '2.0.0', bundleDependencies: ['b'], dependencies: { b: '^1.0.0' } },
        'node_modules/a/node_modules/b': { ...b, inBundle: true },
      },
    });
    const fromV1 = readNpmLockfile(v1Text, 'package-lock.json');
    expect(fromV1.components.map((c) => [c.ref, c.dependsOn])).toEqual([
      ['pkg:npm/a@2.0.0', ['pkg:npm/b@1.0.0']],
      ['pkg:npm/b@1.0.0', []],
    ]);
    expect(fromV1.components).toEqual(readNpmLockfile(v3Text, 'package-lock.json').components);
  });
});
