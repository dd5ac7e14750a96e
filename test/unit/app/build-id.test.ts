import { describe, expect, it } from 'vitest';
import { newBuildId } from '../../../src/app/build/id.js';

describe('build ids', () => {
  it('do not collide when many builds start in the same millisecond (a farm of workers)', () => {
    const at = new Date('2026-12-07T17:27:34.123Z');
    const ids = Array.from({ length: 20_000 }, () => newBuildId(at));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toMatch(/^20261207T172734\.123Z-[0-9a-f]{16}$/);
  });

  it('sort by start time, to the millisecond, and after the ids of earlier versions started before them', () => {
    const times = ['2026-12-07T17:27:34.123Z', '2026-12-07T17:27:34.124Z', '2026-12-07T17:27:35.000Z'];
    const ids = times.map((t) => newBuildId(new Date(t)));
    expect([...ids].sort()).toEqual(ids);
    expect(['20261207T172733Z-3f9a1c', ...ids].sort()[0]).toBe('20261207T172733Z-3f9a1c');
  });
});
