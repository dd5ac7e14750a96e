import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../../../src/core/digest.js';
import { npmPurl } from '../../../src/ecosystems/purl.js';
import { readNpmLockfile } from '../../../src/sbom/index.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/sbom/${name}/package-lock.json`, import.meta.url), 'utf8');
const V3 = fixture('npm-app-v3');
const V2 = fixture('npm-app-v2');

function nameOf(location: string, entry: { name?: string }): string {
  return entry.name ?? location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

describe('readNpmLockfile on real npm lockfiles', () => {
  const graph = readNpmLockfile(V3, 'package-lock.json');
  const byRef = new Map(graph.components.map((c) => [c.ref, c]));
  const get = (ref: string) => {
    const c = byRef.get(ref);
    if (c === undefined) throw new Error(`no component ${ref}`);
    return c;
  };

  it('has every packages entry except the root, by purl, deduplicated and sorted', () => {
    const lock = JSON.parse(V3) as {
      packages: Record<string, { name?: string; version?: string; link?: boolean; resolved?: string }>;
    };
    const expected = new Set<string>();
    for (const [location, entry] of Object.entries(lock.packages)) {
      if (location === '') continue;
      const real = entry.link === true ? (lock.packages[entry.resolved ?? ''] ?? {}) : entry;
      const realLocation = entry.link === true ? (entry.resolved ?? '') : location;
      expected.add(npmPurl(real.name ?? nameOf(realLocation, real), real.version ?? ''));
    }
    expect(Object.keys(lock.packages)).toHaveLength(33);
    expect(graph.components.map((c) => c.ref)).toEqual([...expected].sort());
    expect(graph.components).toHaveLength(28); // 31 installed folders; debug@2.6.9 ×2 and ms@2.0.0 ×3 merged
  });

  it('records root and lockfile identity', () => {
    expect(graph.root).toEqual({ name: 'kiln-fixture-app', version: '1.0.0', ref: 'pkg:npm/kiln-fixture-app@1.0.0' });
    expect(graph.lockfile).toEqual({ path: 'package-lock.json', digest: sha256Digest(V3) });
  });

  it('writes scoped purls with an encoded @ and takes real names from aliases and workspaces', () => {
    expect(get('pkg:npm/%40types/debug@4.1.12')).toMatchObject({ name: '@types/debug', version: '4.1.12' });
    expect(get('pkg:npm/%40kiln-fixture/util@0.2.0').name).toBe('@kiln-fixture/util'); // packages/util via link
    expect(get('pkg:npm/ms@2.0.0').name).toBe('ms'); // also installed as node_modules/ms-old (npm:ms@2.0.0)
    expect(byRef.has('pkg:npm/ms-old@2.0.0')).toBe(false);
  });

  it('resolves edges the way Node does, including nested versions', () => {
    // connect@3.7.0 has its own node_modules: debug@2.6.9 and finalhandler@1.1.2, hoisted parseurl/utils-merge.
    expect(get('pkg:npm/connect@3.7.0').dependsOn).toEqual([
      'pkg:npm/debug@2.6.9',
      'pkg:npm/finalhandler@1.1.2',
      'pkg:npm/parseurl@1.3.3',
      'pkg:npm/utils-merge@1.0.1',
    ]);
    // connect/node_modules/finalhandler finds debug, on-finished and statuses one level up (connect/node_modules),
    // the rest at the top.
    expect(get('pkg:npm/finalhandler@1.1.2').dependsOn).toEqual([
      'pkg:npm/debug@2.6.9',
      'pkg:npm/encodeurl@1.0.4',
      'pkg:npm/escape-html@1.0.3',
      'pkg:npm/on-finished@2.3.0',
      'pkg:npm/parseurl@1.3.3',
      'pkg:npm/statuses@1.5.0',
      'pkg:npm/unpipe@1.0.0',
    ]);
    // the top-level finalhandler@1.2.0 gets the newer on-finished and statuses.
    expect(get('pkg:npm/finalhandler@1.2.0').dependsOn).toContain('pkg:npm/on-finished@2.4.1');
    expect(get('pkg:npm/finalhandler@1.2.0').dependsOn).toContain('pkg:npm/statuses@2.0.1');
    expect(get('pkg:npm/debug@4.3.7').dependsOn).toEqual(['pkg:npm/ms@2.1.3']);
    expect(get('pkg:npm/debug@2.6.9').dependsOn).toEqual(['pkg:npm/ms@2.0.0']);
    expect(get('pkg:npm/%40types/debug@4.1.12').dependsOn).toEqual(['pkg:npm/%40types/ms@2.1.0']);
  });

  it('follows peer dependencies, workspaces (with their devDependencies) and their nested installs', () => {
    expect(get('pkg:npm/use-sync-external-store@1.2.2').dependsOn).toEqual(['pkg:npm/react@18.3.1']);
    expect(get('pkg:npm/react@18.3.1').dependsOn).toEqual(['pkg:npm/loose-envify@1.4.0']);
    expect(get('pkg:npm/%40kiln-fixture/util@0.2.0').dependsOn).toEqual([
      'pkg:npm/escape-html@1.0.3',
      'pkg:npm/ms@2.1.2', // packages/util/node_modules/ms, not the hoisted 2.1.3
    ]);
  });

  it('marks exactly the root dependencies (and workspaces) as direct', () => {
    expect(graph.components.filter((c) => c.direct).map((c) => c.ref)).toEqual([
      'pkg:npm/%40kiln-fixture/util@0.2.0',
      'pkg:npm/%40types/debug@4.1.12',
      'pkg:npm/connect@3.7.0',
      'pkg:npm/debug@4.3.7',
      'pkg:npm/finalhandler@1.2.0',
      'pkg:npm/is-number@6.0.0',
      'pkg:npm/is-odd@3.0.1',
      'pkg:npm/kind-of@6.0.3',
      'pkg:npm/ms@2.0.0',
      'pkg:npm/use-sync-external-store@1.2.2',
    ]);
  });

  it('maps dev, devOptional, optional and peer flags to scopes', () => {
    expect(get('pkg:npm/kind-of@6.0.3').scope).toBe('dev');
    expect(get('pkg:npm/is-number@6.0.0').scope).toBe('dev'); // devOptional
    expect(get('pkg:npm/is-odd@3.0.1').scope).toBe('optional');
    expect(get('pkg:npm/react@18.3.1').scope).toBe('runtime'); // peer: true
    expect(get('pkg:npm/connect@3.7.0').scope).toBe('runtime');
  });

  it('converts integrity to hex (checked against cyclonedx-npm 6.0.1 output) and keeps licenses', () => {
    expect(get('pkg:npm/%40types/debug@4.1.12').hashes).toEqual([
      {
        alg: 'SHA-512',
        hex: 'bc80a159d546dcb1b548cc44bc8fc02be15626d865aea953bbb7dbae5cb04e491a38dc24fd40066942d74657fcbe4cc504b566d3390c742aae84be5a3a38573d',
      },
    ]);
    expect(get('pkg:npm/%40kiln-fixture/util@0.2.0').hashes).toEqual([]); // a workspace has no archive
    expect(graph.components.every((c) => c.license === 'MIT')).toBe(true);
  });

  it('returns a graph with its outline frozen', () => {
    expect(Object.isFrozen(graph)).toBe(true);
    expect(Object.isFrozen(graph.components)).toBe(true);
  });

  it('reads lockfileVersion 2 into the same graph', () => {
    const v2 = readNpmLockfile(V2, 'package-lock.json');
    expect(JSON.parse(V2).lockfileVersion).toBe(2);
    expect(v2.components).toEqual(graph.components);
    expect(v2.root).toEqual(graph.root);
  });
});
