// JSON.parse with a line:column for the first syntax error: V8's messages carry no position for some errors.

/** A parsed JSON value, or where (1-based line and column) and why the text stops being JSON. */
export type JsonParseResult =
  | { ok: true; value: unknown }
  | { ok: false; line: number; column: number; reason: string };

/** Parses JSON text (a leading byte-order mark is ignored); on failure says exactly where it broke. */
export function parseJsonText(text: string): JsonParseResult {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch {
    const { offset, expected } = findSyntaxError(body) ?? { offset: body.length, expected: 'valid JSON' };
    const before = body.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - (before.lastIndexOf('\n') + 1) + 1;
    const found = offset < body.length ? JSON.stringify(body.slice(offset, offset + 10)) : 'end of input';
    return { ok: false, line, column, reason: `expected ${expected}, found ${found}` };
  }
}

type Want = 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'colon' | 'comma-or-close' | 'end';

const EXPECTED: Readonly<Record<Want, string>> = {
  value: 'a value',
  'value-or-close': "a value or ']'",
  key: 'a double-quoted property name',
  'key-or-close': "a double-quoted property name or '}'",
  colon: "':'",
  'comma-or-close': "',' or a closing bracket",
  end: 'end of input',
};

const STRING_RE = /"(?:[^"\\\p{Cc}]|[\u007f-\u009f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/uy; // no raw U+0000–U+001F
const NUMBER_RE = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const LITERAL_RE = /true|false|null/y;
const WS_RE = /[ \t\n\r]*/y;

/** Offset of the first RFC 8259 syntax error in `text`, scanning iteratively (deep nesting cannot overflow). */
function findSyntaxError(text: string): { offset: number; expected: string } | undefined {
  const stack: string[] = [];
  let want: Want = 'value';
  let i = 0;
  const match = (re: RegExp): boolean => {
    re.lastIndex = i;
    if (!re.test(text)) return false;
    i = re.lastIndex;
    return true;
  };
  const afterValue = (): Want => (stack.length > 0 ? 'comma-or-close' : 'end');
  for (;;) {
    match(WS_RE);
    if (i >= text.length) return want === 'end' ? undefined : { offset: i, expected: EXPECTED[want] };
    const c = text[i];
    const start = i;
    if ((want === 'value-or-close' && c === ']') || (want === 'key-or-close' && c === '}')) {
      stack.pop();
      i++;
      want = afterValue();
    } else if (want === 'value' || want === 'value-or-close') {
      if (c === '{' || c === '[') {
        stack.push(c);
        i++;
        want = c === '{' ? 'key-or-close' : 'value-or-close';
      } else if (match(STRING_RE) || match(NUMBER_RE) || match(LITERAL_RE)) {
        want = afterValue();
      } else {
        return { offset: start, expected: c === '"' ? 'a well-formed string' : EXPECTED[want] };
      }
    } else if (want === 'key' || want === 'key-or-close') {
      if (!match(STRING_RE)) return { offset: start, expected: EXPECTED[want] };
      want = 'colon';
    } else if (want === 'colon' && c === ':') {
      i++;
      want = 'value';
    } else if (want === 'comma-or-close' && c === ',') {
      i++;
      want = stack.at(-1) === '{' ? 'key' : 'value';
    } else if (want === 'comma-or-close' && c === (stack.at(-1) === '{' ? '}' : ']')) {
      stack.pop();
      i++;
      want = afterValue();
    } else {
      return { offset: start, expected: EXPECTED[want] };
    }
  }
}
