import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../../../src/core/digest.js';
import type { ComponentGraph } from '../../../src/sbom/graph.js';
import { readNpmLockfile } from '../../../src/sbom/lockfiles/npm/lockfile.js';
import type { NpmPlatform } from '../../../src/sbom/lockfiles/npm/platform.js';
import { readPnpmLockfile } from '../../../src/sbom/lockfiles/pnpm/lockfile.js';

const fixture = (path: string) => readFileSync(new URL(`../../fixtures/sbom/${path}`, import.meta.url), 'utf8');
const V9 = fixture('pnpm-v9/pnpm-lock.yaml');
const V6 = fixture('pnpm-v6/pnpm-lock.yaml');
const NPM = fixture('pnpm-npm-v3/package-lock.json');
const LINUX: NpmPlatform = { os: 'linux', cpu: 'x64', libc: 'glibc' };
/** What the fixtures' package.json files say; pnpm-lock.yaml records neither name nor version of a project. */
const PROJECTS = {
  '.': { name: 'kiln-fixture-pnpm', version: '1.0.0' },
  'packages/util': { name: '@kiln-fixture/util', version: '0.2.0' },
};

const read = (text: string, options: Parameters<typeof readPnpmLockfile>[2] = {}) =>
  readPnpmLockfile(text, 'pnpm-lock.yaml', { platform: LINUX, projects: PROJECTS, ...options });
const getter = (graph: ComponentGraph) => (ref: string) => {
  const c = graph.components.find((x) => x.ref === ref);
  if (c === undefined) throw new Error(`no component ${ref}`);
  return c;
};

describe('readPnpmLockfile on real pnpm lockfiles', () => {
  const graph = read(V9);
  const get = getter(graph);

  it('reads both formats of the same package.json (pnpm 9.15.9: 9.0, pnpm 8.15.9: 6.0)', () => {
    expect(V9.startsWith("lockfileVersion: '9.0'")).toBe(true);
    expect(V6.startsWith("lockfileVersion: '6.0'")).toBe(true);
    // 50 snapshots, 25 of them esbuild binaries for other platforms, plus the linked workspace project.
    expect(graph.components).toHaveLength(26);
    expect(read(V6).components).toEqual(graph.components);
    expect(read(V6).root).toEqual(graph.root);
  });

  it('records root and lockfile identity', () => {
    expect(graph.root).toEqual({ name: 'kiln-fixture-pnpm', version: '1.0.0', ref: 'pkg:npm/kiln-fixture-pnpm@1.0.0' });
    expect(graph.lockfile).toEqual({ path: 'pnpm-lock.yaml', digest: sha256Digest(V9) });
  });

  it('strips peer suffixes for identity and keeps the edges of each copy', () => {
    // snapshots["react-dom@18.2.0(react@18.2.0)"]: react is a resolved peer dependency.
    expect(get('pkg:npm/react-dom@18.2.0').dependsOn).toEqual([
      'pkg:npm/loose-envify@1.4.0',
      'pkg:npm/react@18.2.0',
      'pkg:npm/scheduler@0.23.2',
    ]);
    expect(get('pkg:npm/%40types/debug@4.1.12')).toMatchObject({
      name: '@types/debug',
      version: '4.1.12',
      dependsOn: ['pkg:npm/%40types/ms@2.1.0'],
    });
    expect(get('pkg:npm/debug@4.3.7').dependsOn).toEqual(['pkg:npm/ms@2.1.3']); // optional peer supports-color absent
    expect(get('pkg:npm/debug@2.6.9').dependsOn).toEqual(['pkg:npm/ms@2.0.0']); // finalhandler's own debug
    expect(get('pkg:npm/finalhandler@1.1.2').dependsOn).toContain('pkg:npm/debug@2.6.9');
  });

  it('follows link: dependencies into the workspace project, devDependencies included', () => {
    expect(get('pkg:npm/%40kiln-fixture/util@0.2.0')).toMatchObject({
      scope: 'runtime',
      direct: true,
      hashes: [],
      dependsOn: ['pkg:npm/escape-html@1.0.3', 'pkg:npm/kind-of@6.0.3', 'pkg:npm/ms@2.1.2'],
    });
  });

  it('gives the scopes npm gives: dev, optional, and dev for what both dev and optional paths reach', () => {
    const scopes = Object.fromEntries(graph.components.map((c) => [`${c.name}@${c.version}`, c.scope]));
    expect(scopes).toMatchObject({
      'kind-of@6.0.3': 'dev', // a devDependency of both projects
      'esbuild@0.28.2': 'dev',
      '@esbuild/linux-x64@0.28.2': 'dev', // optional under a dev package
      'is-odd@3.0.1': 'optional',
      'is-number@6.0.0': 'dev', // npm's devOptional: dev at the root, optional under is-odd
      'react@18.2.0': 'runtime',
      'ms@2.1.2': 'runtime', // the runtime workspace project's dependency
    });
  });

  it('marks exactly the importer dependencies as direct', () => {
    expect(graph.components.filter((c) => c.direct).map((c) => c.name)).toEqual([
      '@kiln-fixture/util',
      '@types/debug',
      'debug',
      'esbuild',
      'finalhandler',
      'is-number',
      'is-odd',
      'kind-of',
      'react-dom',
      'react',
    ]);
  });

  it('converts resolution.integrity to hex and leaves licenses unknown (pnpm does not record them)', () => {
    expect(get('pkg:npm/%40types/debug@4.1.12').hashes).toEqual([
      {
        alg: 'SHA-512',
        hex: 'bc80a159d546dcb1b548cc44bc8fc02be15626d865aea953bbb7dbae5cb04e491a38dc24fd40066942d74657fcbe4cc504b566d3390c742aae84be5a3a38573d',
      },
    ]);
    expect(graph.components.every((c) => c.license === undefined)).toBe(true);
  });

  it('returns a graph with its outline frozen', () => {
    expect(Object.isFrozen(graph)).toBe(true);
    expect(Object.isFrozen(graph.components)).toBe(true);
  });
});

describe('readPnpmLockfile matches the npm reader on the same package.json', () => {
  // pnpm-npm-v3 is npm 11's lockfile for the very package.json of pnpm-v9 and pnpm-v6; every direct version is
  // pinned and the transitive ranges resolve alike, so both package managers install the same tree.
  const withoutLicense = (g: ComponentGraph) => g.components.map(({ license: _, ...rest }) => rest);

  it('gives the same components, scopes, edges, hashes and root on linux/x64 and darwin/arm64', () => {
    for (const platform of [LINUX, { os: 'darwin', cpu: 'arm64' }]) {
      const npm = readNpmLockfile(NPM, 'package-lock.json', { platform });
      for (const text of [V9, V6]) {
        const pnpm = read(text, { platform });
        // The one intended difference: npm copies each package's license into its lockfile, pnpm does not.
        expect(withoutLicense(pnpm)).toEqual(withoutLicense(npm));
        expect(pnpm.root).toEqual(npm.root);
      }
    }
    const npm = readNpmLockfile(NPM, 'package-lock.json', { platform: LINUX });
    expect(npm.components.filter((c) => c.license === undefined).map((c) => c.name)).toEqual(['@kiln-fixture/util']);
  });
});

describe('readPnpmLockfile projects', () => {
  it('builds the graph of another importer', () => {
    const util = read(V9, { importer: 'packages/util' });
    expect(util.root).toEqual({
      name: '@kiln-fixture/util',
      version: '0.2.0',
      ref: 'pkg:npm/%40kiln-fixture/util@0.2.0',
    });
    expect(util.components.map((c) => [c.ref, c.scope, c.direct])).toEqual([
      ['pkg:npm/escape-html@1.0.3', 'runtime', true],
      ['pkg:npm/kind-of@6.0.3', 'dev', true],
      ['pkg:npm/ms@2.1.2', 'runtime', true],
    ]);
    expect(read(V6, { importer: 'packages/util' }).components).toEqual(util.components);
  });

  it('without projects, names the root by its importer path and a linked project by its dependency name', () => {
    const graph = readPnpmLockfile(V9, 'pnpm-lock.yaml', { platform: LINUX });
    expect(graph.root).toEqual({ name: '.', version: '', ref: 'pkg:npm/.' });
    expect(graph.components.find((c) => c.name === '@kiln-fixture/util')?.ref).toBe('pkg:npm/%40kiln-fixture/util');
    expect(graph.components).toHaveLength(26);
  });

  it('reads a 6.0 lockfile without workspaces, whose root dependencies are top-level keys', () => {
    const single = { '.': { name: 'kiln-fixture-pnpm-single', version: '0.1.0' } };
    const v6 = read(fixture('pnpm-v6-single/pnpm-lock.yaml'), { projects: single });
    const v9 = read(fixture('pnpm-v9-single/pnpm-lock.yaml'), { projects: single });
    expect(v6.components).toEqual(v9.components);
    expect(v6.components.map((c) => [c.name, c.scope, c.direct])).toEqual([
      ['is-number', 'optional', false],
      ['is-odd', 'optional', true],
      ['js-tokens', 'runtime', false],
      ['kind-of', 'dev', true],
      ['loose-envify', 'runtime', false],
      ['react-dom', 'runtime', true], // sorted by purl: `react-dom@` before `react@`
      ['react', 'runtime', true],
      ['scheduler', 'runtime', false],
    ]);
  });
});
