// Timestamps as Kiln writes them: RFC 3339 UTC with whole seconds.

/** `2026-11-26T01:02:03Z` for a Date (milliseconds dropped). */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** `2026-11-26T01:02:03Z` for seconds since the epoch (e.g. SOURCE_DATE_EPOCH). */
export function isoFromEpoch(seconds: number): string {
  return isoSeconds(new Date(seconds * 1000));
}
