import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { ComponentGraph } from '../../../src/sbom/graph.js';
import { readNpmLockfile } from '../../../src/sbom/lockfiles/npm/lockfile.js';
import { hostNpmPlatform, type NpmPlatform } from '../../../src/sbom/lockfiles/npm/platform.js';
import { readPnpmLockfile } from '../../../src/sbom/lockfiles/pnpm/lockfile.js';

const V9 = readFileSync(new URL('../../fixtures/sbom/pnpm-v9/pnpm-lock.yaml', import.meta.url), 'utf8');
const V6 = readFileSync(new URL('../../fixtures/sbom/pnpm-v6/pnpm-lock.yaml', import.meta.url), 'utf8');
const LINUX_X64_GLIBC: NpmPlatform = { os: 'linux', cpu: 'x64', libc: 'glibc' };
const SHA1 = 'sha1-K0tC6BvM4dm7VHjScdgspbWQQtg=';

const read = (platform: NpmPlatform, text = V9) => readPnpmLockfile(text, 'pnpm-lock.yaml', { platform });
const names = (g: ComponentGraph, prefix: string) =>
  g.components.filter((c) => c.name.startsWith(prefix)).map((c) => c.name);
const dependsOn = (g: ComponentGraph, ref: string) => g.components.find((c) => c.ref === ref)?.dependsOn;

describe('readPnpmLockfile leaves out optional packages pnpm skips on the build platform', () => {
  it('has real lockfiles listing every esbuild binary with os and cpu', () => {
    expect(V9.match(/^ {2}'@esbuild\/[^']+':$/gm)).toHaveLength(26 * 2); // packages and snapshots
    expect(V6.match(/^ {2}\/@esbuild\//gm)).toHaveLength(26);
  });

  it('on linux/x64 keeps only @esbuild/linux-x64, in both formats', () => {
    for (const text of [V9, V6]) {
      const g = read(LINUX_X64_GLIBC, text);
      expect(names(g, '@esbuild/')).toEqual(['@esbuild/linux-x64']);
      expect(dependsOn(g, 'pkg:npm/esbuild@0.28.2')).toEqual(['pkg:npm/%40esbuild/linux-x64@0.28.2']);
    }
    expect(names(read({ os: 'linux', cpu: 'x64' }), '@esbuild/')).toEqual(['@esbuild/linux-x64']); // no libc list
  });

  it('on darwin/arm64 and win32/x64 keeps their binary instead', () => {
    expect(names(read({ os: 'darwin', cpu: 'arm64' }), '@esbuild/')).toEqual(['@esbuild/darwin-arm64']);
    expect(names(read({ os: 'win32', cpu: 'x64' }), '@esbuild/')).toEqual(['@esbuild/win32-x64']);
  });

  it('defaults to the platform of this process', () => {
    expect(readPnpmLockfile(V9, 'pnpm-lock.yaml')).toEqual(read(hostNpmPlatform()));
  });
});

describe('readPnpmLockfile skips the same set npm skips', () => {
  // One tree as both lockfiles write it: the root needs `shared`, optionally `wrapper` → `native` (darwin only,
  // needing `helper` and `shared`), and `musl-only` with a libc list; `peer-user` has an optional peer on `native`.
  const packages = {
    'wrapper@1.0.0': { resolution: { integrity: SHA1 } },
    'native@1.0.0': { resolution: { integrity: SHA1 }, os: ['darwin'] },
    'helper@1.0.0': { resolution: { integrity: SHA1 } },
    'shared@1.0.0': { resolution: { integrity: SHA1 } },
    'musl-only@1.0.0': { resolution: { integrity: SHA1 }, os: ['linux'], libc: ['musl'] },
    'peer-user@1.0.0': {
      resolution: { integrity: SHA1 },
      peerDependencies: { native: '1' },
      peerDependenciesMeta: { native: { optional: true } },
    },
  };
  const pnpm = stringify({
    lockfileVersion: '9.0',
    importers: {
      '.': {
        dependencies: {
          shared: { specifier: '1', version: '1.0.0' },
          'peer-user': { specifier: '1', version: '1.0.0(native@1.0.0)' },
        },
        optionalDependencies: {
          wrapper: { specifier: '1', version: '1.0.0' },
          'musl-only': { specifier: '1', version: '1.0.0' },
        },
      },
    },
    packages,
    snapshots: {
      'wrapper@1.0.0': { dependencies: { native: '1.0.0' }, optional: true },
      'native@1.0.0': { dependencies: { helper: '1.0.0', shared: '1.0.0' }, optional: true },
      'helper@1.0.0': { optional: true },
      'shared@1.0.0': {},
      'musl-only@1.0.0': { optional: true },
      'peer-user@1.0.0(native@1.0.0)': { dependencies: { native: '1.0.0' } },
    },
  });
  const npm = JSON.stringify({
    name: 'app',
    lockfileVersion: 3,
    packages: {
      '': {
        name: 'app',
        dependencies: { shared: '1', 'peer-user': '1' },
        optionalDependencies: { wrapper: '1', 'musl-only': '1' },
      },
      'node_modules/wrapper': { version: '1.0.0', integrity: SHA1, optional: true, dependencies: { native: '1' } },
      'node_modules/native': {
        version: '1.0.0',
        integrity: SHA1,
        optional: true,
        os: ['darwin'],
        dependencies: { helper: '1', shared: '1' },
      },
      'node_modules/helper': { version: '1.0.0', integrity: SHA1, optional: true },
      'node_modules/shared': { version: '1.0.0', integrity: SHA1 },
      'node_modules/musl-only': { version: '1.0.0', integrity: SHA1, optional: true, os: ['linux'], libc: ['musl'] },
      'node_modules/peer-user': {
        version: '1.0.0',
        integrity: SHA1,
        peerDependencies: { native: '1' },
        peerDependenciesMeta: { native: { optional: true } },
      },
    },
  });
  const projects = { '.': { name: 'app', version: '' } };

  it('gives the graph the npm reader gives for the same tree, on each platform', () => {
    const platforms: NpmPlatform[] = [
      LINUX_X64_GLIBC,
      { ...LINUX_X64_GLIBC, libc: 'musl' },
      { os: 'darwin', cpu: 'x64' },
    ];
    for (const platform of platforms) {
      const fromPnpm = readPnpmLockfile(pnpm, 'pnpm-lock.yaml', { platform, projects });
      expect(fromPnpm.components).toEqual(readNpmLockfile(npm, 'package-lock.json', { platform }).components);
    }
    const linux = readPnpmLockfile(pnpm, 'pnpm-lock.yaml', { platform: LINUX_X64_GLIBC, projects });
    expect(linux.components.map((c) => [c.ref, c.scope, c.dependsOn])).toEqual([
      ['pkg:npm/peer-user@1.0.0', 'runtime', []], // its optional peer went with native
      ['pkg:npm/shared@1.0.0', 'runtime', []],
    ]);
    const darwin = readPnpmLockfile(pnpm, 'pnpm-lock.yaml', { platform: { os: 'darwin', cpu: 'x64' }, projects });
    expect(darwin.components.find((c) => c.name === 'native')?.scope).toBe('optional');
  });
});
