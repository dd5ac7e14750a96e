// A TOML 1.0 reader for lockfiles (Cargo.lock, poetry.lock, uv.lock, pyproject.toml) that keeps each key's line.
import { KilnError } from '../../../core/errors.js';
import { isControl, scanNumberOrDate, scanString, TomlSyntaxError } from './scalars.js';

/** A TOML value; date-times are kept as their text. */
export type TomlValue = string | number | boolean | readonly TomlValue[] | TomlTable;

/** A TOML table: keys to values, on an object without a prototype (a key `__proto__` is an ordinary key). */
export interface TomlTable {
  readonly [key: string]: TomlValue;
}

/** A parsed document and the line (1-based) each table header and each key was written on. */
export interface TomlDocument {
  readonly root: TomlTable;
  /** Line of `key` in `table`, or of the table's own header (or first key) when `key` is omitted. */
  line(table: TomlTable, key?: string): number;
}

/** A parsed document, or where (1-based line and column) and why the text stops being TOML. */
export type TomlParseResult =
  | { ok: true; doc: TomlDocument }
  | { ok: false; line: number; column: number; reason: string };

/** True for a table (not an array, string, number or boolean). */
export function isTomlTable(value: TomlValue | undefined): value is TomlTable {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short rendering of a found value for messages: `"text"`, `3`, `an array`, `a table`, `nothing`. */
export function showToml(value: TomlValue | undefined): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (isTomlTable(value)) return 'a table';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

type MutableTable = { [key: string]: TomlValue };

const BARE_KEY_RE = /[A-Za-z0-9_-]+/y;
const WS_RE = /[ \t]*/y;

/** Parses TOML text (a leading byte-order mark is ignored); on failure says exactly where it broke. */
export function parseToml(text: string): TomlParseResult {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  try {
    return { ok: true, doc: new Parser(body).document() };
  } catch (err) {
    if (!(err instanceof TomlSyntaxError)) throw err;
    const before = body.slice(0, err.offset);
    const line = before.split('\n').length;
    return { ok: false, line, column: err.offset - (before.lastIndexOf('\n') + 1) + 1, reason: err.message };
  }
}

const MAX_DEPTH = 64;

class Parser {
  private pos = 0;
  private depth = 0;
  private readonly lines = new WeakMap<TomlTable, Map<string, number>>();
  private readonly tableLines = new WeakMap<TomlTable, number>();
  /** Tables that a header or a dotted key defined (no second header may), and inline tables and arrays (closed). */
  private readonly explicit = new WeakSet<TomlTable>();
  private readonly sealed = new WeakSet<object>();
  private readonly arrayTables = new WeakSet<object>();

  private readonly lineStarts: number[] = [0];

  constructor(private readonly src: string) {
    for (let i = src.indexOf('\n'); i >= 0; i = src.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
  }

  document(): TomlDocument {
    const root = this.table(1);
    let current = root;
    for (;;) {
      this.skipBlank();
      if (this.pos >= this.src.length) break;
      if (this.src[this.pos] === '[') current = this.header(root);
      else this.keyValue(current);
      this.endOfLine();
    }
    const { lines, tableLines } = this;
    return {
      root,
      line: (table, key) => (key === undefined ? tableLines.get(table) : lines.get(table)?.get(key)) ?? 0,
    };
  }

  private table(line: number): MutableTable {
    const t = Object.create(null) as MutableTable;
    this.tableLines.set(t, line);
    this.lines.set(t, new Map());
    return t;
  }

  /** 1-based line of an offset, by binary search over the line starts. */
  private lineAt(offset = this.pos): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  private fail(reason: string, offset = this.pos): never {
    throw new TomlSyntaxError(offset, reason);
  }

  private header(root: MutableTable): MutableTable {
    const start = this.pos;
    const isArray = this.src.startsWith('[[', this.pos);
    this.pos += isArray ? 2 : 1;
    const keys = this.key();
    if (!this.src.startsWith(isArray ? ']]' : ']', this.pos)) this.fail(`expected '${isArray ? ']]' : ']'}'`);
    this.pos += isArray ? 2 : 1;
    const line = this.lineAt(start);
    const parent = this.walk(root, keys.slice(0, -1), start, false);
    const last = keys[keys.length - 1] ?? '';
    const existing = parent[last];
    if (isArray) {
      if (existing !== undefined && !(Array.isArray(existing) && this.arrayTables.has(existing)))
        this.fail(`"${keys.join('.')}" is already defined and is not an array of tables`, start);
      const array = (existing ?? []) as TomlValue[];
      if (existing === undefined) {
        parent[last] = array;
        this.arrayTables.add(array);
        this.lines.get(parent)?.set(last, line);
      }
      const t = this.table(line);
      this.explicit.add(t);
      array.push(t);
      return t;
    }
    if (existing !== undefined) {
      if (!isTomlTable(existing) || this.explicit.has(existing) || this.sealed.has(existing))
        this.fail(`table "${keys.join('.')}" is defined twice`, start);
      this.explicit.add(existing);
      this.tableLines.set(existing, line);
      return existing as MutableTable;
    }
    const t = this.table(line);
    this.explicit.add(t);
    parent[last] = t;
    this.lines.get(parent)?.set(last, line);
    return t;
  }

  /** The table at `keys` under `from`, made on the way; through an array of tables, its last element. */
  private walk(from: MutableTable, keys: readonly string[], at: number, dotted: boolean): MutableTable {
    let t = from;
    for (const k of keys) {
      const v = t[k];
      if (v === undefined) {
        const made = this.table(this.lineAt(at));
        if (dotted) this.explicit.add(made);
        t[k] = made;
        this.lines.get(t)?.set(k, this.lineAt(at));
        t = made;
      } else if (Array.isArray(v) && this.arrayTables.has(v) && !dotted) {
        t = v[v.length - 1] as MutableTable;
      } else if (isTomlTable(v) && !this.sealed.has(v)) {
        t = v as MutableTable;
      } else {
        this.fail(`key "${k}" is already defined as a value`, at);
      }
    }
    return t;
  }

  private keyValue(into: MutableTable): void {
    const start = this.pos;
    const keys = this.key();
    this.ws();
    if (this.src[this.pos] !== '=') this.fail("expected '=' after a key");
    this.pos++;
    this.ws();
    const value = this.value();
    const target = this.walk(into, keys.slice(0, -1), start, true);
    const last = keys[keys.length - 1] ?? '';
    if (last in target) this.fail(`key "${keys.join('.')}" is defined twice`, start);
    target[last] = value;
    this.lines.get(target)?.set(last, this.lineAt(start));
  }

  private key(): string[] {
    const keys: string[] = [];
    for (;;) {
      this.ws();
      const c = this.src[this.pos];
      if (c === '"' || c === "'") {
        if (this.src.startsWith(c.repeat(3), this.pos)) this.fail('a key cannot be a multi-line string');
        keys.push(this.string());
      } else {
        BARE_KEY_RE.lastIndex = this.pos;
        const m = BARE_KEY_RE.exec(this.src);
        if (!m) this.fail('expected a key');
        keys.push(m[0]);
        this.pos += m[0].length;
      }
      this.ws();
      if (this.src[this.pos] !== '.') return keys;
      this.pos++;
    }
  }

  private value(): TomlValue {
    const c = this.src[this.pos];
    if (c === '"' || c === "'") return this.string();
    if (c === '[' || c === '{') {
      // Nesting is bounded so that hostile input cannot exhaust the stack.
      if (++this.depth > MAX_DEPTH) this.fail(`values nested more than ${MAX_DEPTH} deep`);
      const nested = c === '[' ? this.array() : this.inlineTable();
      this.depth--;
      return nested;
    }
    if (this.src.startsWith('true', this.pos) && !/[\w-]/.test(this.src[this.pos + 4] ?? '')) {
      this.pos += 4;
      return true;
    }
    if (this.src.startsWith('false', this.pos) && !/[\w-]/.test(this.src[this.pos + 5] ?? '')) {
      this.pos += 5;
      return false;
    }
    const scalar = scanNumberOrDate(this.src, this.pos);
    if (scalar) {
      this.pos = scalar.end;
      return scalar.value;
    }
    return this.fail('expected a value (string, number, boolean, date, array or inline table)');
  }

  private string(): string {
    const { value, end } = scanString(this.src, this.pos);
    this.pos = end;
    return value;
  }

  private array(): TomlValue[] {
    this.pos++;
    const out: TomlValue[] = [];
    for (;;) {
      this.skipBlank();
      if (this.src[this.pos] === ']') break;
      out.push(this.value());
      this.skipBlank();
      if (this.src[this.pos] === ',') this.pos++;
      else if (this.src[this.pos] !== ']') this.fail("expected ',' or ']' in an array");
    }
    this.pos++;
    this.sealed.add(out);
    return out;
  }

  private inlineTable(): TomlTable {
    const t = this.table(this.lineAt());
    this.pos++;
    this.ws();
    if (this.src[this.pos] === '}') {
      this.pos++;
    } else {
      for (;;) {
        this.keyValue(t);
        this.ws();
        const c = this.src[this.pos];
        this.pos++;
        if (c === '}') break;
        if (c !== ',') this.fail("expected ',' or '}' in an inline table", this.pos - 1);
      }
    }
    this.sealed.add(t);
    return t;
  }

  private ws(): void {
    WS_RE.lastIndex = this.pos;
    this.pos += WS_RE.exec(this.src)?.[0].length ?? 0;
  }

  /** Whitespace, newlines and comments. */
  private skipBlank(): void {
    for (;;) {
      this.ws();
      const c = this.src[this.pos];
      if (c === '#') this.comment();
      else if (c === '\n') this.pos++;
      else if (c === '\r' && this.src[this.pos + 1] === '\n') this.pos += 2;
      else return;
    }
  }

  private comment(): void {
    const end = this.src.indexOf('\n', this.pos);
    const text = this.src.slice(this.pos, end < 0 ? undefined : end).replace(/\r$/, '');
    for (let i = 0; i < text.length; i++) {
      if (isControl(text[i] ?? '')) this.fail('control character in a comment', this.pos + i);
    }
    this.pos += text.length;
  }

  private endOfLine(): void {
    this.ws();
    if (this.src[this.pos] === '#') this.comment();
    const c = this.src[this.pos];
    if (c === undefined || c === '\n' || (c === '\r' && this.src[this.pos + 1] === '\n')) return;
    this.fail('expected the end of the line');
  }
}

/** Parses a lockfile or manifest in TOML; broken TOML is KILN_LOCKFILE_INVALID at file:line:column with `hint`. */
export function parseTomlFile(text: string, file: string, hint: string): TomlDocument {
  const parsed = parseToml(text);
  if (parsed.ok) return parsed.doc;
  throw new KilnError(
    'KILN_LOCKFILE_INVALID',
    `${file}:${parsed.line}:${parsed.column}: not valid TOML: ${parsed.reason}`,
    {
      hint,
      details: { file, line: parsed.line, column: parsed.column },
    },
  );
}
