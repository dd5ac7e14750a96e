// TOML 1.0 scalars — strings with their escapes, numbers, dates — scanned from an offset, for the TOML reader.

/** Where (offset into the text) and why the text stops being TOML. */
export class TomlSyntaxError extends Error {
  constructor(
    readonly offset: number,
    reason: string,
  ) {
    super(reason);
  }
}

const NUMBER_RE =
  /[+-]?(?:inf|nan)|0x[0-9A-Fa-f](?:_?[0-9A-Fa-f])*|0o[0-7](?:_?[0-7])*|0b[01](?:_?[01])*|[+-]?(?:0|[1-9](?:_?[0-9])*)(?:\.[0-9](?:_?[0-9])*)?(?:[eE][+-]?[0-9](?:_?[0-9])*)?/y;
const DATE_RE =
  /\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})?)?|\d{2}:\d{2}:\d{2}(?:\.\d+)?/y;
const ESCAPES: Readonly<Record<string, string>> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };

/** Control characters other than tab may not appear raw in strings or comments (newlines end them). */
export function isControl(c: string): boolean {
  const code = c.charCodeAt(0);
  return (code < 0x20 && c !== '\t') || code === 0x7f;
}

/** A basic ("…", """…""") or literal ('…', '''…''') string starting at `start`, and the offset after it. */
export function scanString(src: string, start: number): { value: string; end: number } {
  const quote = src[start] ?? '';
  const multi = src.startsWith(quote.repeat(3), start);
  let pos = start + (multi ? 3 : 1);
  if (multi && src[pos] === '\n') pos++;
  else if (multi && src.startsWith('\r\n', pos)) pos += 2;
  let out = '';
  for (;;) {
    const c = src[pos];
    if (c === undefined) throw new TomlSyntaxError(start, 'unterminated string');
    if (c === quote && (!multi || src.startsWith(quote.repeat(3), pos))) {
      if (!multi) return { value: out, end: pos + 1 };
      // Up to two quotes may end a multi-line string's content: `""""` is a quote then the delimiter.
      let extra = 0;
      while (extra < 2 && src[pos + 3 + extra] === quote) extra++;
      return { value: out + quote.repeat(extra), end: pos + 3 + extra };
    }
    if (c === '\n' && !multi) throw new TomlSyntaxError(start, 'a single-line string cannot contain a newline');
    if (quote === '"' && c === '\\') {
      const e = scanEscape(src, pos, multi);
      out += e.value;
      pos = e.end;
      continue;
    }
    if (isControl(c) && !(multi && (c === '\n' || (c === '\r' && src[pos + 1] === '\n')))) {
      const code = c.charCodeAt(0).toString(16).padStart(4, '0');
      throw new TomlSyntaxError(pos, `control character U+${code} must be escaped`);
    }
    out += c;
    pos++;
  }
}

function scanEscape(src: string, pos: number, multi: boolean): { value: string; end: number } {
  const e = src[pos + 1] ?? '';
  const simple = ESCAPES[e];
  if (simple !== undefined) return { value: simple, end: pos + 2 };
  if (e === 'u' || e === 'U') {
    const len = e === 'u' ? 4 : 8;
    const hex = src.slice(pos + 2, pos + 2 + len);
    const code = /^[0-9A-Fa-f]+$/.test(hex) && hex.length === len ? Number.parseInt(hex, 16) : -1;
    if (code < 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
      throw new TomlSyntaxError(pos, 'invalid unicode escape');
    return { value: String.fromCodePoint(code), end: pos + 2 + len };
  }
  if (multi && /^[ \t]*\r?\n/.test(src.slice(pos + 1))) {
    // A line-ending backslash trims the newline and all whitespace after it.
    let end = pos + 1;
    while (/[ \t\r\n]/.test(src[end] ?? '')) end++;
    return { value: '', end };
  }
  throw new TomlSyntaxError(pos, `invalid escape "\\${e}"`);
}

/** A date-time (kept as its text) or a number at `pos`, when one starts there and ends at a word boundary. */
export function scanNumberOrDate(src: string, pos: number): { value: string | number; end: number } | undefined {
  DATE_RE.lastIndex = pos;
  const date = DATE_RE.exec(src);
  if (date) return { value: date[0], end: pos + date[0].length };
  NUMBER_RE.lastIndex = pos;
  const num = NUMBER_RE.exec(src);
  if (!num || /[\w.]/.test(src[pos + num[0].length] ?? '')) return undefined;
  return { value: toNumber(num[0]), end: pos + num[0].length };
}

function toNumber(text: string): number {
  const t = text.replace(/_/g, '');
  if (/^[+-]?inf$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/.test(t)) return Number.NaN;
  if (/^0[xob]/.test(t)) return Number.parseInt(t.slice(2), t[1] === 'x' ? 16 : t[1] === 'o' ? 8 : 2);
  return Number(t);
}
