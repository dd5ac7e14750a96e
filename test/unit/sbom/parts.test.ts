import { describe, expect, it } from 'vitest';
import { parseJsonText } from '../../../src/core/json-text.js';
import { npmPurl, purlNamespaceAndName } from '../../../src/ecosystems/purl.js';
import { isSpdxExpression } from '../../../src/license/declared.js';
import { integrityToHashes } from '../../../src/sbom/lockfiles/integrity.js';
import { workspaceMatcher } from '../../../src/sbom/lockfiles/npm/resolve.js';

describe('npmPurl / purlNamespaceAndName', () => {
  it('encodes the scope @ and reserved characters, and round-trips', () => {
    expect(npmPurl('@angular/animation', '12.3.1')).toBe('pkg:npm/%40angular/animation@12.3.1');
    expect(npmPurl('foobar', '')).toBe('pkg:npm/foobar');
    expect(npmPurl('JSONStream', '1.0.0+build.1')).toBe('pkg:npm/JSONStream@1.0.0%2Bbuild.1');
    expect(npmPurl("it's(x)", '1')).toBe('pkg:npm/it%27s%28x%29@1');
    expect(purlNamespaceAndName('pkg:npm/%40angular/animation@12.3.1')).toEqual({
      namespace: '@angular',
      name: 'animation',
    });
    expect(purlNamespaceAndName('pkg:npm/it%27s%28x%29@1?x=1#sub')).toEqual({ name: "it's(x)" });
    expect(purlNamespaceAndName('pkg:golang/github.com/gorilla/context@v1.1.1')).toEqual({
      namespace: 'github.com/gorilla',
      name: 'context',
    });
  });
});

describe('integrityToHashes', () => {
  it('converts every SRI token and ignores options', () => {
    const sha256 = Buffer.alloc(32, 0xab).toString('base64');
    expect(integrityToHashes(`sha256-${sha256}?opt  sha1-K0tC6BvM4dm7VHjScdgspbWQQtg=`)).toEqual({
      ok: true,
      hashes: [
        { alg: 'SHA-256', hex: 'ab'.repeat(32) },
        { alg: 'SHA-1', hex: '2b4b42e81bcce1d9bb5478d271d82ca5b59042d8' },
      ],
    });
  });

  it('rejects unknown algorithms, bad base64 and wrong lengths', () => {
    expect(integrityToHashes('md5-1B2M2Y8AsgTpgAmY7PhCfg==')).toMatchObject({ ok: false });
    expect(integrityToHashes(`sha512-${'!'.repeat(88)}`)).toMatchObject({ ok: false });
    expect(integrityToHashes(`sha512-${Buffer.alloc(32).toString('base64')}`)).toMatchObject({ ok: false });
    expect(integrityToHashes('  ')).toEqual({ ok: false, problems: ['is empty'] });
  });
});

describe('parseJsonText', () => {
  const at = (text: string) => {
    const r = parseJsonText(text);
    return r.ok ? 'ok' : `${r.line}:${r.column}`;
  };

  it('locates the first syntax error by line and column', () => {
    expect(at('{"a": 1,}')).toBe('1:9');
    expect(at('{\n  "a": tru\n}')).toBe('2:8');
    expect(at('{\n  "a": 1\n  "b": 2\n}')).toBe('3:3');
    expect(at('{"a": "x\ty"}')).toBe('1:7');
    expect(at('[1, 2]\n]')).toBe('2:1');
    expect(at('{"a": [1, 2}')).toBe('1:12');
    expect(at('')).toBe('1:1');
    expect(at('{"a":')).toBe('1:6');
  });

  it('accepts a byte-order mark and survives deep nesting', () => {
    expect(parseJsonText('\uFEFF{"a": 1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(at(`${'['.repeat(200_000)}x`)).toBe('1:200001');
  });
});

describe('workspaceMatcher', () => {
  it('matches npm workspace globs and exclusions', () => {
    const m = workspaceMatcher(['packages/*', './apps/**/', 'tools/cli', '!packages/private']);
    expect(['packages/a', 'apps/web', 'apps/x/y', 'tools/cli'].every(m)).toBe(true);
    expect(['packages/a/b', 'packages/private', 'tools', 'node_modules/a'].some(m)).toBe(false);
  });
});

describe('isSpdxExpression', () => {
  it('tells expressions from free text', () => {
    for (const e of ['MIT', '(MIT OR Apache-2.0)', 'GPL-2.0+ WITH Classpath-exception-2.0', 'LicenseRef-x AND (ISC)']) {
      expect(isSpdxExpression(e)).toBe(true);
    }
    for (const e of ['SEE LICENSE IN x.md', 'UNLICENSED', 'MIT OR', '(MIT', 'MIT)', '', 'mit or isc']) {
      expect(isSpdxExpression(e)).toBe(false);
    }
  });
});
