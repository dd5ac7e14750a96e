import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ComponentGraph } from '../../../src/sbom/index.js';
import { readNpmLockfile } from '../../../src/sbom/lockfiles/npm/lockfile.js';
import { hostNpmPlatform, type NpmPlatform, platformMatches } from '../../../src/sbom/lockfiles/npm/platform.js';

const LOCK = readFileSync(new URL('../../fixtures/sbom/npm-platform/package-lock.json', import.meta.url), 'utf8');
const LINUX_X64_GLIBC: NpmPlatform = { os: 'linux', cpu: 'x64', libc: 'glibc' };

const read = (platform: NpmPlatform, text = LOCK) => readNpmLockfile(text, 'package-lock.json', { platform });
const names = (g: ComponentGraph, prefix: string) =>
  g.components.filter((c) => c.name.startsWith(prefix)).map((c) => c.name);
const dependsOn = (g: ComponentGraph, ref: string) => g.components.find((c) => c.ref === ref)?.dependsOn;

describe('readNpmLockfile leaves out optional packages npm skips on the build platform', () => {
  it('has a real lockfile listing every platform package with os/cpu (and libc for rollup)', () => {
    const packages = JSON.parse(LOCK).packages as Record<string, { os?: string[]; libc?: string[] }>;
    expect(Object.keys(packages).filter((l) => l.startsWith('node_modules/@esbuild/'))).toHaveLength(26);
    expect(packages['node_modules/@esbuild/linux-x64']?.os).toEqual(['linux']);
    expect(packages['node_modules/@rollup/rollup-linux-x64-musl']?.libc).toEqual(['musl']);
  });

  it('on linux/x64/glibc keeps only the linux-x64 (gnu) binaries', () => {
    const g = read(LINUX_X64_GLIBC);
    expect(names(g, '@esbuild/')).toEqual(['@esbuild/linux-x64']);
    expect(names(g, '@rollup/')).toEqual(['@rollup/rollup-linux-x64-gnu']);
    expect(names(g, 'fsevents')).toEqual([]); // os: ["darwin"]
    expect(dependsOn(g, 'pkg:npm/esbuild@0.28.2')).toEqual(['pkg:npm/%40esbuild/linux-x64@0.28.2']);
    expect(dependsOn(g, 'pkg:npm/rollup@4.40.0')).toEqual([
      'pkg:npm/%40rollup/rollup-linux-x64-gnu@4.40.0',
      'pkg:npm/%40types/estree@1.0.7',
    ]);
    expect(g.components.map((c) => c.name).sort()).toEqual(
      ['@esbuild/linux-x64', '@rollup/rollup-linux-x64-gnu', '@types/estree', 'esbuild', 'rollup'].sort(),
    );
  });

  it('on darwin/arm64 keeps the darwin-arm64 binaries and fsevents instead', () => {
    const g = read({ os: 'darwin', cpu: 'arm64' });
    expect(names(g, '@esbuild/')).toEqual(['@esbuild/darwin-arm64']);
    expect(names(g, '@rollup/')).toEqual(['@rollup/rollup-darwin-arm64']);
    expect(dependsOn(g, 'pkg:npm/rollup@4.40.0')).toContain('pkg:npm/fsevents@2.3.3');
  });

  it('matches libc: musl gets the musl build, an unknown libc neither', () => {
    expect(names(read({ ...LINUX_X64_GLIBC, libc: 'musl' }), '@rollup/')).toEqual(['@rollup/rollup-linux-x64-musl']);
    expect(names(read({ os: 'linux', cpu: 'x64' }), '@rollup/')).toEqual([]);
    expect(names(read({ os: 'linux', cpu: 'x64' }), '@esbuild/')).toEqual(['@esbuild/linux-x64']);
  });

  it('defaults to the platform of this process', () => {
    expect(hostNpmPlatform()).toMatchObject({ os: process.platform, cpu: process.arch });
    expect(readNpmLockfile(LOCK, 'package-lock.json')).toEqual(read(hostNpmPlatform()));
  });

  it('leaves out the optional set: dependents over required edges and dependencies only it needs', () => {
    const text = JSON.stringify({
      name: 'app',
      lockfileVersion: 3,
      packages: {
        '': { name: 'app', dependencies: { shared: '1' }, optionalDependencies: { wrapper: '1' } },
        'node_modules/wrapper': { version: '1.0.0', optional: true, dependencies: { native: '1' } },
        'node_modules/native': {
          version: '1.0.0',
          optional: true,
          os: ['darwin'],
          dependencies: { helper: '1', shared: '1' },
        },
        'node_modules/helper': { version: '1.0.0', optional: true },
        'node_modules/shared': { version: '1.0.0' },
        'node_modules/wintool': { version: '1.0.0', os: ['win32'] }, // not optional: npm would refuse, Kiln keeps it
      },
    });
    const refs = (p: NpmPlatform) => read(p, text).components.map((c) => c.ref);
    expect(refs(LINUX_X64_GLIBC)).toEqual(['pkg:npm/shared@1.0.0', 'pkg:npm/wintool@1.0.0']);
    expect(refs({ os: 'darwin', cpu: 'arm64' })).toHaveLength(5);
  });
});

describe('platformMatches follows npm-install-checks', () => {
  const linux = LINUX_X64_GLIBC;
  it.each([
    [{}, true],
    [{ os: ['linux'] }, true],
    [{ os: 'linux' }, true],
    [{ os: ['darwin', 'linux'] }, true],
    [{ os: ['darwin'] }, false],
    [{ os: ['!win32'] }, true],
    [{ os: ['!win32', '!linux'] }, false],
    [{ os: ['linux', '!linux'] }, false],
    [{ os: ['darwin', '!win32'] }, false],
    [{ os: ['any'] }, true],
    [{ cpu: ['x64'], libc: ['glibc'] }, true],
    [{ cpu: ['arm64'] }, false],
    [{ libc: ['musl'] }, false],
    [{ libc: ['!musl'] }, true],
  ])('%j on linux/x64/glibc → %s', (target, expected) => {
    expect(platformMatches(target, linux)).toBe(expected);
  });

  it('fails any libc list when the libc is unknown (not Linux, or undetected)', () => {
    expect(platformMatches({ libc: ['!musl'] }, { os: 'darwin', cpu: 'arm64' })).toBe(false);
  });
});
