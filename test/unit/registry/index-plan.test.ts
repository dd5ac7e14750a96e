import { describe, expect, it } from 'vitest';
import type { Descriptor } from '../../../src/registry/index.js';
import { ANNOTATION_REF_NAME, addToIndex, emptyIndex, OCI_MANIFEST } from '../../../src/registry/index.js';

const d = (c: string, extra: Partial<Descriptor> = {}): Descriptor => ({
  mediaType: OCI_MANIFEST,
  digest: `sha256:${c.repeat(64)}`,
  size: 10,
  ...extra,
});
const view = (idx: ReturnType<typeof emptyIndex>) =>
  idx.manifests.map((e) => `${e.digest.slice(7, 8)}:${e.annotations?.[ANNOTATION_REF_NAME] ?? '-'}`);

describe('addToIndex (pure)', () => {
  it('adds, sorts by digest then ref name, and never duplicates (digest, ref)', () => {
    let idx = emptyIndex();
    idx = addToIndex(idx, d('b'), 'v1');
    idx = addToIndex(idx, d('a'));
    idx = addToIndex(idx, d('b'), 'v1');
    idx = addToIndex(idx, d('b'), 'latest');
    idx = addToIndex(idx, d('a'));
    expect(view(idx)).toEqual(['a:-', 'b:latest', 'b:v1']);
    expect(Object.isFrozen(idx) && Object.isFrozen(idx.manifests)).toBe(true);
  });

  it('drops an untagged entry once the digest is tagged, and ignores untagged re-adds of a tagged digest', () => {
    let idx = addToIndex(emptyIndex(), d('a'));
    idx = addToIndex(idx, d('a'), 'v1');
    expect(view(idx)).toEqual(['a:v1']);
    expect(view(addToIndex(idx, d('a')))).toEqual(['a:v1']);
  });

  it('moves a ref name: the old manifest stays, untagged', () => {
    let idx = addToIndex(emptyIndex(), d('a'), 'latest');
    idx = addToIndex(idx, d('b'), 'latest');
    expect(view(idx)).toEqual(['a:-', 'b:latest']);
  });

  it('moving a ref away from a digest that keeps another ref leaves just that other ref', () => {
    let idx = addToIndex(emptyIndex(), d('a'), 'latest');
    idx = addToIndex(idx, d('a'), 'v1');
    idx = addToIndex(idx, d('b'), 'latest');
    expect(view(idx)).toEqual(['a:v1', 'b:latest']);
  });

  it('keeps other annotations of an entry that loses its ref name', () => {
    const tagged = d('a', { annotations: { [ANNOTATION_REF_NAME]: 'latest', 'org.example.note': 'kept' } });
    const idx = addToIndex({ ...emptyIndex(), manifests: [tagged] }, d('b'), 'latest');
    expect(idx.manifests[0]?.annotations).toEqual({ 'org.example.note': 'kept' });
  });

  it('gives the same index whatever order concurrent writers arrive in', () => {
    const ops: readonly (readonly [Descriptor, string | undefined])[] = [
      [d('c'), 'x'],
      [d('a'), undefined],
      [d('b'), 'y'],
      [d('a'), 'z'],
    ];
    const apply = (order: number[]) =>
      order.reduce((idx, k) => {
        const [m, r] = ops[k] ?? [d('f'), undefined];
        return addToIndex(idx, m, r);
      }, emptyIndex());
    expect(apply([3, 2, 1, 0])).toEqual(apply([0, 1, 2, 3]));
    expect(apply([2, 0, 3, 1])).toEqual(apply([0, 1, 2, 3]));
    expect(apply([0, 1, 2, 3]).manifests).toHaveLength(3);
  });
});
