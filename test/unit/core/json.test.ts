import { describe, expect, it } from 'vitest';
import { canonicalJson, freezeOutline } from '../../../src/core/json.js';

/** What canonicalJson has always meant: JSON.stringify of a copy with every object's keys sorted. */
function reference(value: unknown, indent?: number): string {
  const sorted = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sorted);
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) {
      const item = (v as Record<string, unknown>)[key];
      if (item !== undefined) out[key] = sorted(item);
    }
    return out;
  };
  return JSON.stringify(sorted(value), null, indent);
}

describe('canonicalJson', () => {
  it('sorts keys at every depth, whatever order the objects were built in', () => {
    const value = { b: [{ z: 1, a: { y: true, x: null } }], a: 'x', B: undefined };
    expect(canonicalJson(value)).toBe('{"a":"x","b":[{"a":{"x":null,"y":true},"z":1}]}');
    expect(canonicalJson(value, 2)).toBe(reference(value, 2));
  });

  it('writes objects already in key order (kept, not copied) as their sorted copies', () => {
    const inner = { a: 1, b: undefined, c: () => 1, d: [undefined, () => 1, Symbol('s')] };
    const values: unknown[] = [
      { a: 1, b: { c: [1, { d: 2, e: 3 }] } },
      { a: 1, b: { e: 3, d: 2 } }, // only the inner object is out of order
      inner,
      { 10: 'x', 2: 'y', a: 1, Z: 2 }, // array-index keys come first, in numeric order, either way
      { 4294967295: 'not an index', 4294967294: 'an index', b: 1 },
      Object.assign(new Array(3), { 0: 1, 2: 3 }), // a hole is written as null
      new Date(0), // no toJSON: an object without own keys
      { a: { toJSON: () => 'own toJSON is a key like any other' } },
      Object.assign(Object.create(null), { a: 1, b: 2 }),
      new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
      'text',
      undefined,
    ];
    for (const value of values) {
      expect(canonicalJson(value)).toBe(reference(value));
      expect(canonicalJson(value, 2)).toBe(reference(value, 2));
    }
  });
});

describe('freezeOutline', () => {
  it('freezes objects and arrays down to the levels asked for, and never the items of an array', () => {
    const doc = { meta: { tool: { name: 'kiln' } }, items: [{ ref: 'a', hashes: [] }] };
    expect(freezeOutline(doc, 2)).toBe(doc);
    expect([Object.isFrozen(doc), Object.isFrozen(doc.meta), Object.isFrozen(doc.items)]).toEqual([true, true, true]);
    expect(Object.isFrozen(doc.meta.tool)).toBe(false);
    expect(Object.isFrozen(doc.items[0])).toBe(false);
    freezeOutline(doc, 3);
    expect(Object.isFrozen(doc.meta.tool)).toBe(true);
    expect(Object.isFrozen(doc.items[0])).toBe(false);
  });
});
