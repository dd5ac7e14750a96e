// RubyGems versions: Gem::Version's grammar and ordering (rubygems/lib/rubygems/version.rb, canonical segments).
import { compareAscii, compareDigits, stripLeadingZeros } from './numeric.js';

/** One segment: a run of digits (leading zeros dropped) or of letters; letters mark a pre-release. */
interface GemSegment {
  readonly numeric: boolean;
  readonly text: string;
}

/** A gem version as its canonical segments: trailing zeros dropped from the release and the pre-release part. */
export interface GemVersion {
  readonly segments: readonly GemSegment[];
}

// Gem::Version::ANCHORED_VERSION_PATTERN; Ruby's \s is [ \t\r\n\f\v]. Unlike RubyGems, which reads a blank string
// as "0", an empty or blank version is refused here: no published gem has one, and OSV values are never blank.
const GEM_VERSION = /^[ \t\r\n\f\v]*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)[ \t\r\n\f\v]*$/;
const GEM_SEGMENT = /[0-9]+|[a-zA-Z]+/g;
const ZERO: GemSegment = Object.freeze({ numeric: true, text: '0' });

/**
 * Parses a gem version. As Gem::Version#initialize does, every '-' becomes ".pre.", so "1.0.0-rc1" equals
 * "1.0.0.pre.rc1"; segments are then the runs of digits and of letters ("1.0.a10" is 1, 0, "a", 10).
 */
export function parseGemVersion(text: string): GemVersion | undefined {
  const m = GEM_VERSION.exec(text);
  const body = m?.[1];
  if (body === undefined) return undefined;
  const raw = (body.replaceAll('-', '.pre.').match(GEM_SEGMENT) ?? []).map(
    (s): GemSegment => (isDigit(s) ? { numeric: true, text: stripLeadingZeros(s) } : { numeric: false, text: s }),
  );
  // canonical_segments: the numbers before the first letters, and the rest, each without trailing zeros.
  const firstWord = raw.findIndex((s) => !s.numeric);
  const split = firstWord < 0 ? raw.length : firstWord;
  const segments = [...dropTrailingZeros(raw.slice(0, split)), ...dropTrailingZeros(raw.slice(split))];
  return Object.freeze({ segments: Object.freeze(segments.map((s) => Object.freeze(s))) });
}

function isDigit(segment: string): boolean {
  const c = segment.charCodeAt(0);
  return c >= 48 && c <= 57;
}

function dropTrailingZeros(segments: readonly GemSegment[]): readonly GemSegment[] {
  let end = segments.length;
  while (end > 0 && segments[end - 1]?.text === '0') end--;
  return segments.slice(0, end);
}

/**
 * Gem::Version#<=>: segment by segment, a missing segment counting as 0; letters sort before numbers (so
 * "1.15.0.pre.1" < "1.15.0"), numbers compare numerically and letters bytewise, case-sensitively.
 */
export function compareGemVersion(a: GemVersion, b: GemVersion): number {
  const n = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const x = a.segments[i] ?? ZERO;
    const y = b.segments[i] ?? ZERO;
    if (x.numeric !== y.numeric) return x.numeric ? 1 : -1;
    const c = x.numeric ? compareDigits(x.text, y.text) : compareAscii(x.text, y.text);
    if (c !== 0) return c;
  }
  return 0;
}
