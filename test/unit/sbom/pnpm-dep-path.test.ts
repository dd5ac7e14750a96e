import { describe, expect, it } from 'vitest';
import { dependencyFlags, type KindedEdge } from '../../../src/sbom/lockfiles/pnpm/dep-flags.js';
import { depPathOfRef, packageIdOf, removePeersSuffix } from '../../../src/sbom/lockfiles/pnpm/dep-path.js';

describe('depPathOfRef follows pnpm refToRelative', () => {
  it('9.0: versions become name@version, aliases and scoped keys are keys already, links are not keys', () => {
    expect(depPathOfRef('9.0', '4.3.7', 'debug')).toBe('debug@4.3.7');
    expect(depPathOfRef('9.0', '18.2.0(react@18.2.0)', 'react-dom')).toBe('react-dom@18.2.0(react@18.2.0)');
    expect(depPathOfRef('9.0', 'string-width@4.2.3', 'string-width-cjs')).toBe('string-width@4.2.3');
    expect(depPathOfRef('9.0', '@types/ms@2.1.0', 'ms-types')).toBe('@types/ms@2.1.0');
    expect(depPathOfRef('9.0', 'https://codeload.github.com/a/b/tar.gz/abc', 'b')).toBe(
      'b@https://codeload.github.com/a/b/tar.gz/abc',
    );
    expect(depPathOfRef('9.0', 'file:vendor/x.tgz', 'x')).toBe('x@file:vendor/x.tgz');
    expect(depPathOfRef('9.0', 'link:packages/util', 'util')).toBeUndefined();
  });

  it('6.0: versions become /name@version, slashes mean a key already', () => {
    expect(depPathOfRef('6.0', '4.3.7', 'debug')).toBe('/debug@4.3.7');
    expect(depPathOfRef('6.0', '2.1.0', '@types/ms')).toBe('/@types/ms@2.1.0');
    expect(depPathOfRef('6.0', '1.0.0(@scope/peer@2.0.0)', 'a')).toBe('/a@1.0.0(@scope/peer@2.0.0)');
    expect(depPathOfRef('6.0', '/string-width@4.2.3', 'string-width-cjs')).toBe('/string-width@4.2.3');
    expect(depPathOfRef('6.0', 'github.com/user/repo/abc123', 'repo')).toBe('github.com/user/repo/abc123');
    expect(depPathOfRef('6.0', 'file:vendor/x.tgz', 'x')).toBe('file:vendor/x.tgz');
    expect(depPathOfRef('6.0', 'link:../util', 'util')).toBeUndefined();
  });
});

describe('removePeersSuffix and packageIdOf', () => {
  it('strip balanced peer and patch suffixes only', () => {
    expect(removePeersSuffix('a@1.0.0')).toBe('a@1.0.0');
    expect(removePeersSuffix('a@1.0.0(b@2.0.0)(c@3.0.0)')).toBe('a@1.0.0');
    expect(removePeersSuffix('a@1.0.0(b@2.0.0(c@3.0.0))')).toBe('a@1.0.0');
    expect(removePeersSuffix('a@1.0.0(patch_hash=abc)(b@2.0.0)')).toBe('a@1.0.0');
    expect(removePeersSuffix('(unbalanced))')).toBe('(unbalanced))');
  });

  it('read name and version from both key formats', () => {
    expect(packageIdOf('9.0', '@types/ms@2.1.0')).toEqual({ name: '@types/ms', version: '2.1.0' });
    expect(packageIdOf('9.0', 'react-dom@18.2.0(react@18.2.0)')).toEqual({ name: 'react-dom', version: '18.2.0' });
    expect(packageIdOf('6.0', '/react-dom@18.2.0(react@18.2.0)')).toEqual({ name: 'react-dom', version: '18.2.0' });
    expect(packageIdOf('9.0', 'b@https://codeload.github.com/a/b/tar.gz/abc')).toEqual({ name: 'b', version: '' });
    expect(packageIdOf('6.0', 'github.com/user/repo/abc123')).toBeUndefined();
    expect(packageIdOf('9.0', '@scope-only')).toBeUndefined();
  });
});

describe('dependencyFlags computes what npm writes as dev/optional/devOptional', () => {
  const graph = (edges: Record<string, [string, KindedEdge['kind']][]>) =>
    new Map(Object.entries(edges).map(([from, out]) => [from, out.map(([to, kind]) => ({ to, kind }))]));

  it('propagates through shared dependencies and takes the most needed path', () => {
    const flags = dependencyFlags(
      graph({
        '': [
          ['a', 'prod'],
          ['d', 'dev'],
          ['o', 'optional'],
        ],
        a: [['shared', 'prod']],
        d: [
          ['shared', 'prod'],
          ['both', 'prod'],
          ['do', 'optional'],
        ],
        o: [['both', 'prod']],
        unreachable: [['a', 'prod']],
      }),
      '',
    );
    const scopes = Object.fromEntries([...flags].map(([id, f]) => [id, f.scope]));
    expect(scopes).toEqual({
      '': 'runtime',
      a: 'runtime',
      d: 'dev',
      o: 'optional',
      shared: 'runtime',
      both: 'dev',
      do: 'dev',
    });
    expect(flags.get('do')).toEqual({ dev: true, optional: true, scope: 'dev' });
    expect(flags.get('both')).toEqual({ dev: false, optional: false, scope: 'dev' }); // npm's devOptional
  });
});
