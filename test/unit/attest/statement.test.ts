import { describe, expect, it } from 'vitest';
import { CYCLONEDX_PREDICATE, IN_TOTO_STATEMENT_V1, makeStatement, statementBytes } from '../../../src/attest/index.js';
import { sha256Digest, sha256Hex } from '../../../src/core/digest.js';

describe('makeStatement', () => {
  const b = { name: 'b.tar', digest: sha256Digest('b') };
  const a = { name: 'a.tar', digest: sha256Digest('a') };

  it('sorts subjects by name, splits the digest, and freezes the result', () => {
    const predicate = { bomFormat: 'CycloneDX' };
    const s = makeStatement([b, a], CYCLONEDX_PREDICATE, predicate);
    expect(s).toEqual({
      _type: IN_TOTO_STATEMENT_V1,
      subject: [
        { name: 'a.tar', digest: { sha256: sha256Hex('a') } },
        { name: 'b.tar', digest: { sha256: sha256Hex('b') } },
      ],
      predicateType: CYCLONEDX_PREDICATE,
      predicate: { bomFormat: 'CycloneDX' },
    });
    expect(Object.isFrozen(s.subject[0]?.digest)).toBe(true);
    expect(Object.isFrozen(s.predicate)).toBe(true);
    expect(Object.isFrozen(predicate)).toBe(false);
  });

  it('gives the same canonical bytes whatever the input order', () => {
    const one = statementBytes(makeStatement([a, b], CYCLONEDX_PREDICATE, { y: 1, x: 2 }));
    const two = statementBytes(makeStatement([b, a], CYCLONEDX_PREDICATE, { x: 2, y: 1 }));
    expect(one.equals(two)).toBe(true);
    expect(one.toString()).toMatch(/^\{"_type":"https:\/\/in-toto.io\/Statement\/v1","predicate":\{"x":2,"y":1\}/);
  });

  it('rejects a malformed digest and an empty subject list', () => {
    expect(() => makeStatement([{ name: 'x', digest: 'sha256:XYZ' }], CYCLONEDX_PREDICATE, {})).toThrow(/malformed/);
    expect(() => makeStatement([], CYCLONEDX_PREDICATE, {})).toThrow(/at least one subject/);
  });
});
