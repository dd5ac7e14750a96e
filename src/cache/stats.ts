// Per-build cache figures: plain data the executor accumulates and the store and `--json` report.

/** How much the cache saved in one build (recorded per build in the store). */
export interface BuildCacheFigures {
  readonly hits: number;
  readonly misses: number;
  readonly bytesRestored: number;
  /** Sum over hits of the original run time of the step that produced the entry. */
  readonly timeSavedMs: number;
}

/** The figures of a build before any step ran. */
export const NO_CACHE_FIGURES: BuildCacheFigures = Object.freeze({
  hits: 0,
  misses: 0,
  bytesRestored: 0,
  timeSavedMs: 0,
});

/** One more step replayed from the cache. */
export function addCacheHit(
  figures: BuildCacheFigures,
  hit: { bytesRestored: number; timeSavedMs: number },
): BuildCacheFigures {
  return Object.freeze({
    ...figures,
    hits: figures.hits + 1,
    bytesRestored: figures.bytesRestored + hit.bytesRestored,
    timeSavedMs: figures.timeSavedMs + Math.max(0, hit.timeSavedMs),
  });
}

/** One more step that had to run. */
export function addCacheMiss(figures: BuildCacheFigures): BuildCacheFigures {
  return Object.freeze({ ...figures, misses: figures.misses + 1 });
}

/** Two sets of figures added up (e.g. parallel executor lanes, or builds in a report). */
export function sumCacheFigures(a: BuildCacheFigures, b: BuildCacheFigures): BuildCacheFigures {
  return Object.freeze({
    hits: a.hits + b.hits,
    misses: a.misses + b.misses,
    bytesRestored: a.bytesRestored + b.bytesRestored,
    timeSavedMs: a.timeSavedMs + b.timeSavedMs,
  });
}
