import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../../../src/core/digest.js';
import type { ComponentGraph } from '../../../src/sbom/graph.js';
import { readNpmLockfile } from '../../../src/sbom/lockfiles/npm/lockfile.js';
import { readYarnLockfile, yarnLockfileFormat } from '../../../src/sbom/lockfiles/yarn/lockfile.js';

const fixture = (path: string) => readFileSync(new URL(`../../fixtures/sbom/${path}`, import.meta.url), 'utf8');
const CLASSIC = fixture('yarn-classic/yarn.lock');
const BERRY = fixture('yarn-berry/yarn.lock');
const manifest = { text: fixture('yarn-npm/package.json'), file: 'package.json' };

const get = (g: ComponentGraph, ref: string) => {
  const c = g.components.find((x) => x.ref === ref);
  if (c === undefined) throw new Error(`no component ${ref}`);
  return c;
};
/** What yarn.lock can tell: everything but licenses, which it does not record. */
const comparable = (g: ComponentGraph) => g.components.map(({ license, ...c }) => c);
const withoutHashes = (g: ComponentGraph) => comparable(g).map(({ hashes, ...c }) => c);

describe('readYarnLockfile on real lockfiles of one package.json', () => {
  const npm = readNpmLockfile(fixture('yarn-npm/package-lock.json'), 'package-lock.json');
  const classic = readYarnLockfile(CLASSIC, 'yarn.lock', manifest);
  const berry = readYarnLockfile(BERRY, 'yarn.lock', manifest);

  it('are the same project, written by the three tools', () => {
    expect(fixture('yarn-classic/package.json')).toBe(manifest.text);
    expect(fixture('yarn-berry/package.json')).toBe(manifest.text);
    expect(CLASSIC).toContain('# yarn lockfile v1');
    expect(BERRY).toMatch(/^__metadata:\n {2}version: \d+/m);
    expect([yarnLockfileFormat(CLASSIC), yarnLockfileFormat(BERRY)]).toEqual(['classic', 'berry']);
    expect(JSON.parse(fixture('yarn-npm/package-lock.json')).lockfileVersion).toBe(3);
  });

  it('reads 27 components from 28 classic blocks (ms@2.0.0 also as the alias ms-old) and 28 berry entries', () => {
    expect(CLASSIC.match(/^\S.*:$/gm)).toHaveLength(28);
    expect(classic.components).toHaveLength(27);
    expect(BERRY.match(/^"/gm)).toHaveLength(28); // the root workspace's entry, and ms-old a key of ms@2.0.0's
    expect(berry.components).toHaveLength(27);
    expect(classic.root).toEqual({
      name: 'kiln-fixture-yarn',
      version: '1.0.0',
      ref: 'pkg:npm/kiln-fixture-yarn@1.0.0',
    });
    expect(classic.lockfile).toEqual({ path: 'yarn.lock', digest: sha256Digest(CLASSIC) });
  });

  it('classic gives exactly the graph npm gives, but for licenses (yarn.lock records none)', () => {
    expect(comparable(classic)).toEqual(comparable(npm));
    expect(classic.root).toEqual(npm.root);
  });

  it('berry gives the graph npm gives, but for licenses and hashes (its checksum hashes yarn’s own zip)', () => {
    expect(withoutHashes(berry)).toEqual(withoutHashes(npm));
    expect(berry.components.every((c) => c.hashes.length === 0)).toBe(true);
    expect(npm.components.every((c) => c.hashes.length === 1)).toBe(true);
  });

  it('resolves edges by descriptor, including a dependency shared by two packages and two versions of one', () => {
    for (const g of [classic, berry]) {
      expect(get(g, 'pkg:npm/http-errors@2.0.0').dependsOn).toEqual([
        'pkg:npm/depd@2.0.0',
        'pkg:npm/inherits@2.0.4',
        'pkg:npm/setprototypeof@1.2.0',
        'pkg:npm/statuses@2.0.1',
        'pkg:npm/toidentifier@1.0.1',
      ]);
      expect(get(g, 'pkg:npm/finalhandler@1.2.0').dependsOn).toContain('pkg:npm/statuses@2.0.1'); // shared
      expect(get(g, 'pkg:npm/finalhandler@1.2.0').dependsOn).toContain('pkg:npm/debug@2.6.9');
      expect(get(g, 'pkg:npm/debug@2.6.9').dependsOn).toEqual(['pkg:npm/ms@2.0.0']);
      expect(get(g, 'pkg:npm/debug@4.3.4').dependsOn).toEqual(['pkg:npm/ms@2.1.2']);
      expect(get(g, 'pkg:npm/%40types/debug@4.1.12')).toMatchObject({
        name: '@types/debug',
        dependsOn: ['pkg:npm/%40types/ms@2.1.0'], // `"@types/ms" "*"`
      });
    }
  });

  it('takes direct dependencies and scopes from package.json, propagated as npm does', () => {
    for (const g of [classic, berry]) {
      expect(g.components.filter((c) => c.direct).map((c) => c.ref)).toEqual([
        'pkg:npm/%40types/debug@4.1.12',
        'pkg:npm/debug@4.3.4',
        'pkg:npm/finalhandler@1.2.0',
        'pkg:npm/http-errors@2.0.0',
        'pkg:npm/inherits@2.0.4', // `inherits@^2.0.4`, one block with http-errors' `inherits@2.0.4`
        'pkg:npm/is-even@1.0.0',
        'pkg:npm/is-odd@3.0.1',
        'pkg:npm/kind-of@6.0.3',
        'pkg:npm/ms@2.0.0', // ms-old: npm:ms@2.0.0
      ]);
      const scope = (ref: string) => get(g, ref).scope;
      expect(scope('pkg:npm/is-even@1.0.0')).toBe('dev');
      expect(scope('pkg:npm/is-buffer@1.1.6')).toBe('dev'); // is-even → is-odd@0.1.2 → is-number@3 → kind-of@3 → …
      expect(scope('pkg:npm/is-odd@3.0.1')).toBe('optional');
      expect(scope('pkg:npm/is-number@6.0.0')).toBe('optional');
      expect(scope('pkg:npm/ms@2.0.0')).toBe('runtime');
    }
    expect(get(classic, 'pkg:npm/is-odd@3.0.1').hashes).toEqual(get(npm, 'pkg:npm/is-odd@3.0.1').hashes);
  });
});

describe('readYarnLockfile on a workspaces project with a file: dependency', () => {
  const ws = (tool: string) => ({ text: fixture(`yarn-ws-${tool}/package.json`), file: 'package.json' });
  const npm = readNpmLockfile(fixture('yarn-ws-npm/package-lock.json'), 'package-lock.json');
  const classic = readYarnLockfile(fixture('yarn-ws-classic/yarn.lock'), 'yarn.lock', ws('classic'));
  const berry = readYarnLockfile(fixture('yarn-ws-berry/yarn.lock'), 'yarn.lock', ws('berry'));
  const UTIL = 'pkg:npm/%40kiln-fixture/util@0.2.0';

  it('lists the workspace without a version: yarn.lock does not record it (berry: 0.0.0-use.local)', () => {
    const refs = (g: ComponentGraph) => g.components.map((c) => c.ref);
    const versionless = refs(npm).map((ref) => (ref === UTIL ? 'pkg:npm/%40kiln-fixture/util' : ref));
    expect(refs(classic)).toEqual(versionless);
    expect(refs(berry)).toEqual(versionless);
    for (const g of [classic, berry]) {
      expect(get(g, 'pkg:npm/%40kiln-fixture/util')).toMatchObject({ name: '@kiln-fixture/util', version: '' });
      expect(get(g, 'pkg:npm/%40kiln-fixture/util').direct).toBe(true);
    }
  });

  it('reads a file: folder as npm reads its link, with the version yarn recorded', () => {
    for (const g of [npm, classic, berry]) {
      expect(get(g, 'pkg:npm/local-dep@0.3.0')).toMatchObject({ direct: true, dependsOn: ['pkg:npm/inherits@2.0.4'] });
    }
  });

  it('berry knows the workspace’s dependencies, not which are dev; yarn 1 knows neither', () => {
    expect(get(npm, UTIL).dependsOn).toEqual(['pkg:npm/kind-of@6.0.3', 'pkg:npm/ms@2.1.3']);
    expect(get(berry, 'pkg:npm/%40kiln-fixture/util').dependsOn).toEqual(get(npm, UTIL).dependsOn);
    expect(get(classic, 'pkg:npm/%40kiln-fixture/util').dependsOn).toEqual([]);
    expect(get(npm, 'pkg:npm/kind-of@6.0.3').scope).toBe('dev'); // a devDependency of the workspace
    for (const g of [classic, berry]) expect(get(g, 'pkg:npm/kind-of@6.0.3').scope).toBe('runtime');
  });
});
