// Number and text comparisons every version scheme shares, exact for numbers of any length (no float rounding).

/** Drops leading zeros ("007" → "7", "000" → "0") so digit strings compare by length, then text. */
export function stripLeadingZeros(digits: string): string {
  let i = 0;
  while (i < digits.length - 1 && digits.charCodeAt(i) === 48) i++;
  return i === 0 ? digits : digits.slice(i);
}

/** Orders two digit strings without leading zeros as the integers they spell, however long. */
export function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return compareAscii(a, b);
}

/** Code-unit order; for the ASCII text versions are made of this is byte order, as Go, Ruby and Python use. */
export function compareAscii(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True when `text` is one or more ASCII digits. */
export function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
