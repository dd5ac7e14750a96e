// Yarn classic's own lockfile syntax (`# yarn lockfile v1`): indented `key value` lines and `key1, key2:` blocks.

/** One line of the file: its key(s), and either a string value or the block of lines indented below it. */
export interface ClassicField {
  readonly keys: readonly string[];
  /** 1-based line number, for problems. */
  readonly line: number;
  readonly value: ClassicValue;
}

/** A field's value: a string (quoted or bare in the file) or a nested block. */
export type ClassicValue =
  | { readonly kind: 'string'; readonly text: string }
  | { readonly kind: 'block'; readonly fields: readonly ClassicField[] };

interface MutableField {
  keys: string[];
  line: number;
  value: { kind: 'string'; text: string } | { kind: 'block'; fields: MutableField[] };
}

/**
 * Parses the text as yarn 1.x's parser does: two spaces per level, `#` comment lines, JSON-quoted or bare tokens
 * (a bare token ends at a space, colon or comma), several comma-separated keys per line, `key value` or `key:`
 * opening a block. Reports every line it cannot read as `line N: why`; problems stop nothing but the bad line.
 */
export function parseClassicSyntax(text: string): { fields: readonly ClassicField[]; problems: string[] } {
  const top: MutableField[] = [];
  const stack: MutableField[][] = [top];
  const problems: string[] = [];
  let opened: MutableField[] | undefined; // the block the previous line opened, not yet entered
  let skipBelow: number | undefined; // after a bad line, the lines indented below it are not read (nor reported)
  const lines = (text.startsWith('\uFEFF') ? text.slice(1) : text).split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = i + 1;
    const indented = indentOf(raw);
    if (indented === undefined) continue;
    if (typeof indented === 'string') {
      problems.push(`line ${line}: ${indented}`);
      continue;
    }
    const { depth, content } = indented;
    if (skipBelow !== undefined && depth > skipBelow) continue;
    skipBelow = undefined;
    if (opened !== undefined && depth === stack.length) stack.push(opened);
    opened = undefined;
    if (depth >= stack.length) {
      skipBelow = stack.length - 1;
      problems.push(
        `line ${line}: is indented by ${depth * 2} spaces, deeper than the line above allows (at most ${skipBelow * 2})`,
      );
      continue;
    }
    stack.length = depth + 1;
    const parsed = parseLine(content, depth * 2);
    if (typeof parsed === 'string') {
      skipBelow = depth;
      problems.push(`line ${line}: ${parsed}`);
      continue;
    }
    const field: MutableField =
      parsed.value === undefined
        ? { keys: parsed.keys, line, value: { kind: 'block', fields: [] } }
        : { keys: parsed.keys, line, value: { kind: 'string', text: parsed.value } };
    stack[depth]?.push(field);
    if (field.value.kind === 'block') opened = field.value.fields;
  }
  return { fields: top, problems };
}

/** A line's nesting depth and trimmed content; undefined for blank and comment lines; a string says why not. */
function indentOf(raw: string): { depth: number; content: string } | string | undefined {
  const content = raw.trim();
  if (content === '' || content.startsWith('#')) return undefined;
  if (/^(<{7}|={7}|>{7})/.test(raw)) return 'has a merge conflict marker';
  const indent = raw.slice(0, raw.length - raw.trimStart().length);
  if (/[^ ]/.test(indent)) return 'is indented with a tab; yarn indents with spaces';
  if (indent.length % 2 !== 0) return `is indented by ${indent.length} spaces, not a multiple of 2`;
  return { depth: indent.length / 2, content };
}

/** `k1, k2:` → keys and no value; `k value` or `k: value` → one value. A string is why the line is unreadable. */
function parseLine(s: string, indent: number): { keys: string[]; value?: string } | string {
  const keys: string[] = [];
  let pos = 0;
  for (;;) {
    const token = readToken(s, pos, indent);
    if (typeof token === 'string') return token;
    keys.push(token.text);
    pos = skipSpaces(s, token.end);
    if (s[pos] !== ',') break;
    pos = skipSpaces(s, pos + 1);
  }
  const colon = s[pos] === ':';
  if (colon) pos = skipSpaces(s, pos + 1);
  if (pos === s.length) return colon ? { keys } : `"${keys.at(-1)}" has neither a value nor a ':' opening a block`;
  const value = readToken(s, pos, indent);
  if (typeof value === 'string') return value;
  if (skipSpaces(s, value.end) !== s.length)
    return `unexpected text after the value: ${JSON.stringify(s.slice(value.end).trim())}`;
  return { keys, value: value.text };
}

/** A JSON-quoted string, or a bare token up to the next space, colon or comma (yarn quotes anything else). */
function readToken(s: string, pos: number, indent: number): { text: string; end: number } | string {
  if (s[pos] === '"') {
    let end = pos + 1;
    while (end < s.length && s[end] !== '"') end += s[end] === '\\' ? 2 : 1;
    if (end >= s.length) return 'has an unterminated quoted string';
    try {
      return { text: JSON.parse(s.slice(pos, end + 1)) as string, end: end + 1 };
    } catch {
      return `has a malformed quoted string ${s.slice(pos, end + 1)}`;
    }
  }
  const bare = /^[^\s:,"]+/.exec(s.slice(pos));
  if (bare === null)
    return `expected a key or value at column ${indent + pos + 1}, found ${JSON.stringify(s.slice(pos, pos + 10))}`;
  return { text: bare[0], end: pos + bare[0].length };
}

function skipSpaces(s: string, pos: number): number {
  let p = pos;
  while (s[p] === ' ' || s[p] === '\t') p++;
  return p;
}
