// The histogram bounds of Kiln's latency metrics (build duration, publish time, queue wait), from a second to an
// hour. Fixed: the store folds deleted rows into these buckets, and an SLO's latency threshold must be one of them.

/** Upper bounds in seconds, ascending. */
export const LATENCY_BOUNDS_SECONDS: readonly number[] = Object.freeze([
  1, 2, 5, 10, 15, 30, 60, 120, 180, 300, 600, 900, 1200, 1800, 2700, 3600,
]);
