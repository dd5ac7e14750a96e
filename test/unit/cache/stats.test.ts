import { describe, expect, it } from 'vitest';
import { addCacheHit, addCacheMiss, NO_CACHE_FIGURES, sumCacheFigures } from '../../../src/cache/index.js';

describe('per-build cache figures', () => {
  it('adds hits and misses without mutating earlier figures', () => {
    const one = addCacheHit(NO_CACHE_FIGURES, { bytesRestored: 1000, timeSavedMs: 2500 });
    const two = addCacheMiss(addCacheHit(one, { bytesRestored: 24, timeSavedMs: -5 }));
    expect(NO_CACHE_FIGURES).toEqual({ hits: 0, misses: 0, bytesRestored: 0, timeSavedMs: 0 });
    expect(one).toEqual({ hits: 1, misses: 0, bytesRestored: 1000, timeSavedMs: 2500 });
    expect(two).toEqual({ hits: 2, misses: 1, bytesRestored: 1024, timeSavedMs: 2500 });
    expect(Object.isFrozen(two)).toBe(true);
    expect(sumCacheFigures(one, two)).toEqual({ hits: 3, misses: 1, bytesRestored: 2024, timeSavedMs: 5000 });
  });
});
