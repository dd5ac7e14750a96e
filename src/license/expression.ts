// SPDX license expressions (SPDX 2.3 Annex D): parsed into a tree, printed back canonically, expanded into choices.
import { KilnError } from '../core/errors.js';
import { closestSpdxId, spdxException, spdxLicense } from './spdx-ids.js';

/** A parsed expression: one license (`id`, `+` = or any later version, WITH `exception`) or two joined by AND / OR. */
export type LicenseExpression =
  | { readonly kind: 'license'; readonly id: string; readonly orLater: boolean; readonly exception?: string }
  | { readonly kind: 'and' | 'or'; readonly left: LicenseExpression; readonly right: LicenseExpression };

/** Why a text is not an SPDX license expression; `at` is the 0-based offset (UTF-16 units) of the problem. */
export interface LicenseParseError {
  readonly error: string;
  readonly at: number;
}

/** How strict parsing is; the defaults follow SPDX 2.3 and the SPDX License List. */
export interface LicenseParseOptions {
  /** 'listed' (default): ids must be on the SPDX License List, or LicenseRef-s; 'any': any well-formed id. */
  readonly ids?: 'listed' | 'any';
  /** 'upper-or-lower' (default, Annex D.2): `AND` or `and`, never `And`; 'upper': only `AND`, `OR`, `WITH`. */
  readonly operators?: 'upper-or-lower' | 'upper';
}

const MAX_DEPTH = 64;
const MAX_LICENSES = 1000;
const MAX_CHOICES = 1000;
const IDSTRING = /^[A-Za-z0-9.-]+$/;
const LICENSE_REF = /^(?:DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$/i;
const OPERATORS: Readonly<Record<string, Operator>> = { AND: 'and', OR: 'or', WITH: 'with' };
const NOT_IDS: Readonly<Record<string, string>> = {
  UNLICENSED: `"UNLICENSED" is npm's marker for a package that grants no license; it is not an SPDX license id`,
  NONE: `"NONE" is the SPDX value for "no license", not a license id; it cannot be part of an expression`,
  NOASSERTION: `"NOASSERTION" is the SPDX value for "license not known", not a license id`,
};

type Operator = 'and' | 'or' | 'with';
type Leaf = Extract<LicenseExpression, { kind: 'license' }>;
interface Token {
  readonly text: string;
  readonly at: number;
}

class ParseFailure extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

/**
 * Parses `text` as an SPDX license expression: precedence `+` > WITH > AND > OR, parentheses, ids and exceptions
 * matched case-insensitively and returned in the list's case, LicenseRef-s as written. Free text (`BSD`,
 * `MIT/X11`, `SEE LICENSE IN LICENSE.md`, `UNLICENSED`) is common in package manifests, so it is an error result,
 * not a throw.
 */
export function parseLicenseExpression(
  text: string,
  options: LicenseParseOptions = {},
): LicenseExpression | LicenseParseError {
  try {
    return new Parser(text, options).parse();
  } catch (err) {
    if (err instanceof ParseFailure) return Object.freeze({ error: err.message, at: err.at });
    throw err;
  }
}

/** True when a parse result is the error, i.e. the text is not an SPDX license expression. */
export function isLicenseParseError(result: LicenseExpression | LicenseParseError): result is LicenseParseError {
  return 'error' in result;
}

/** Canonical text: upper-case operators, parentheses only where OR sits under AND, so equal trees print equal. */
export function formatLicenseExpression(expr: LicenseExpression): string {
  switch (expr.kind) {
    case 'license':
      return `${expr.id}${expr.orLater ? '+' : ''}${expr.exception === undefined ? '' : ` WITH ${expr.exception}`}`;
    case 'and':
      return `${andOperand(expr.left)} AND ${andOperand(expr.right)}`;
    case 'or':
      return `${formatLicenseExpression(expr.left)} OR ${formatLicenseExpression(expr.right)}`;
  }
}

function andOperand(expr: LicenseExpression): string {
  return expr.kind === 'or' ? `(${formatLicenseExpression(expr)})` : formatLicenseExpression(expr);
}

/**
 * The sets of licenses one may choose to comply with, in expression order: OR gives alternatives, AND requires all
 * of both sides. Each set holds formatted licenses (`GPL-2.0+ WITH Bison-exception-2.2`), sorted and deduplicated.
 */
export function licenseChoices(expr: LicenseExpression): readonly (readonly string[])[] {
  return Object.freeze(choiceSets(expr).map((set) => Object.freeze(set)));
}

function choiceSets(expr: LicenseExpression): string[][] {
  switch (expr.kind) {
    case 'license':
      return [[formatLicenseExpression(expr)]];
    case 'or':
      return distinct([...choiceSets(expr.left), ...choiceSets(expr.right)]);
    case 'and': {
      const left = choiceSets(expr.left);
      const right = choiceSets(expr.right);
      if (left.length * right.length > MAX_CHOICES) {
        throw new KilnError('KILN_SBOM_INVALID', `license expression has more than ${MAX_CHOICES} license choices`, {
          hint: 'judge such an expression with judgeLicense, which finds a complying choice without listing them all',
          details: { expression: formatLicenseExpression(expr).slice(0, 500) },
        });
      }
      return distinct(left.flatMap((l) => right.map((r) => [...l, ...r])));
    }
  }
}

function distinct(sets: string[][]): string[][] {
  const seen = new Map<string, string[]>();
  for (const set of sets) {
    const sorted = [...new Set(set)].sort();
    const key = sorted.join('\n');
    if (!seen.has(key)) seen.set(key, sorted);
  }
  return [...seen.values()];
}

class Parser {
  private readonly tokens: readonly Token[];
  private next = 0;
  private licenses = 0;

  constructor(
    private readonly text: string,
    private readonly options: LicenseParseOptions,
  ) {
    this.tokens = [...text.matchAll(/\(|\)|[^\s()]+/g)].map((m) => ({ text: m[0], at: m.index }));
  }

  parse(): LicenseExpression {
    const see = /^\s*SEE\s+LICENSE\s+IN\b/i.exec(this.text);
    if (see !== null) {
      throw new ParseFailure(`"SEE LICENSE IN …" points to a license file; it is not an SPDX expression`, see.index);
    }
    if (this.tokens.length === 0) throw new ParseFailure('empty license expression', 0);
    const expr = this.or(0);
    const extra = this.tokens[this.next];
    if (extra !== undefined) throw new ParseFailure(this.unexpected(extra), extra.at);
    return expr;
  }

  private or(depth: number): LicenseExpression {
    let expr = this.and(depth);
    while (this.peekOperator() === 'or') {
      this.next++;
      expr = Object.freeze({ kind: 'or', left: expr, right: this.and(depth) });
    }
    return expr;
  }

  private and(depth: number): LicenseExpression {
    let expr = this.operand(depth);
    while (this.peekOperator() === 'and') {
      this.next++;
      expr = Object.freeze({ kind: 'and', left: expr, right: this.operand(depth) });
    }
    return expr;
  }

  private operand(depth: number): LicenseExpression {
    const token = this.take('a license id');
    if (token.text === '(') {
      if (depth >= MAX_DEPTH) throw new ParseFailure(`parentheses nest deeper than ${MAX_DEPTH} levels`, token.at);
      const inner = this.or(depth + 1);
      const close = this.tokens[this.next];
      if (close?.text !== ')') {
        throw new ParseFailure(`missing ")" to close the "(" at ${token.at}`, close?.at ?? this.text.length);
      }
      this.next++;
      if (this.peekOperator() === 'with') {
        throw new ParseFailure('WITH must follow a single license, not a parenthesized expression', this.peek().at);
      }
      return inner;
    }
    if (token.text === ')' || this.operatorOf(token.text) !== undefined) {
      throw new ParseFailure(`expected a license id, found ${quoted(token.text)}`, token.at);
    }
    if (++this.licenses > MAX_LICENSES) {
      throw new ParseFailure(`more than ${MAX_LICENSES} licenses in one expression`, token.at);
    }
    const license = this.license(token);
    if (this.peekOperator() !== 'with') return license;
    this.next++;
    return Object.freeze({ ...license, exception: this.exception(this.take('a license exception id')) });
  }

  private license(token: Token): Leaf {
    const word = checkChars(token);
    if (LICENSE_REF.test(word)) return leaf(word, false);
    const orLater = word.endsWith('+');
    const base = orLater ? word.slice(0, -1) : word;
    if (base === '') throw new ParseFailure('"+" must follow a license id with no space in between', token.at);
    if (LICENSE_REF.test(base)) {
      throw new ParseFailure(`"+" (or later) applies to SPDX License List ids, not to ${quoted(base)}`, token.at);
    }
    if (!IDSTRING.test(base)) throw new ParseFailure(this.malformed(word), token.at);
    if (this.options.ids === 'any') return leaf(base, orLater);
    const listed = spdxLicense(base);
    if (listed !== undefined) return leaf(listed.id, orLater);
    throw new ParseFailure(this.unknownLicense(token), token.at);
  }

  private exception(token: Token): string {
    if (token.text === '(' || token.text === ')' || this.operatorOf(token.text) !== undefined) {
      throw new ParseFailure(`expected a license exception id after WITH, found ${quoted(token.text)}`, token.at);
    }
    const word = checkChars(token);
    if (!IDSTRING.test(word)) throw new ParseFailure(`${quoted(word)} is not a license exception id`, token.at);
    if (this.options.ids === 'any') return word;
    const listed = spdxException(word);
    if (listed !== undefined) return listed.id;
    if (spdxLicense(word) !== undefined) {
      const msg = `${quoted(word)} is a license, not an exception; WITH takes an exception id such as Classpath-exception-2.0`;
      throw new ParseFailure(msg, token.at);
    }
    throw new ParseFailure(
      `${quoted(word)} is not an SPDX license exception id${didYouMean(word, 'exception')}`,
      token.at,
    );
  }

  private malformed(word: string): string {
    return word.slice(0, -1).includes('+')
      ? `${quoted(word)}: "+" may only come last, right after the license id`
      : `${quoted(word)}: only "DocumentRef-…:LicenseRef-…" may contain ":"`;
  }

  /** The message for an id not on the list; the words up to the next operator are read as one name, `Apache 2.0`. */
  private unknownLicense(token: Token): string {
    const upper = token.text.toUpperCase();
    const notId = NOT_IDS[upper];
    if (notId !== undefined) return notId;
    const miscased = this.miscasedOperator(token.text);
    if (miscased !== undefined) return miscased;
    const words = [token.text];
    for (let i = this.next; i < this.tokens.length; i++) {
      const t = this.tokens[i];
      if (t === undefined || t.text === '(' || t.text === ')' || this.operatorOf(t.text) !== undefined) break;
      words.push(t.text);
    }
    const name = words.join(' ');
    return `${quoted(name)} is not an SPDX license id${didYouMean(name, 'license')}`;
  }

  private unexpected(token: Token): string {
    if (token.text === ')') return 'unmatched ")"';
    if (token.text.startsWith('+')) return '"+" must follow a license id with no space in between';
    const miscased = this.miscasedOperator(token.text);
    if (miscased !== undefined) return miscased;
    if (this.operatorOf(token.text) === 'with') return 'WITH must follow a single license id, and only once';
    const before = this.tokens[this.next - 1]?.text ?? '';
    return `expected AND, OR or WITH between ${quoted(before)} and ${quoted(token.text)}`;
  }

  /** Annex D.2: operators are matched case-sensitively, so `And` is neither an operator nor an id. */
  private miscasedOperator(word: string): string | undefined {
    const upper = word.toUpperCase();
    const op = OPERATORS[upper];
    if (op === undefined || this.operatorOf(word) !== undefined) return undefined;
    return this.options.operators === 'upper'
      ? `operator ${quoted(word)} must be written in upper case: ${upper}`
      : `operator ${quoted(word)} must be all upper case (${upper}) or all lower case (${op})`;
  }

  private take(what: string): Token {
    const token = this.tokens[this.next];
    if (token === undefined) {
      const last = this.tokens[this.next - 1];
      throw new ParseFailure(`expected ${what}${last ? ` after ${quoted(last.text)}` : ''}`, this.text.length);
    }
    this.next++;
    return token;
  }

  private peek(): Token {
    return this.tokens[this.next] ?? { text: '', at: this.text.length };
  }

  private peekOperator(): Operator | undefined {
    const token = this.tokens[this.next];
    return token === undefined ? undefined : this.operatorOf(token.text);
  }

  private operatorOf(word: string): Operator | undefined {
    const upper = word.toUpperCase();
    const op = OPERATORS[upper];
    if (op === undefined) return undefined;
    if (word === upper || (this.options.operators !== 'upper' && word === op)) return op;
    return undefined;
  }
}

function leaf(id: string, orLater: boolean): Leaf {
  return Object.freeze({ kind: 'license', id, orLater });
}

/** The token's text when every character may appear in an id; else fails at the first one that may not. */
function checkChars(token: Token): string {
  const bad = /[^A-Za-z0-9.+:-]/.exec(token.text);
  if (bad === null) return token.text;
  const join = bad[0] === '/' || bad[0] === ',' || bad[0] === '|' ? '; join licenses with OR or AND' : '';
  throw new ParseFailure(
    `${quoted(token.text)} contains "${bad[0]}", which no license id may contain${join}`,
    token.at + bad.index,
  );
}

/** A word of the input for a message: in double quotes, cut short so huge free text gives a short message. */
function quoted(word: string): string {
  return `"${word.length > 60 ? `${word.slice(0, 60)}…` : word}"`;
}

function didYouMean(name: string, kind: 'license' | 'exception'): string {
  const guess = closestSpdxId(name, kind);
  return guess === undefined ? '' : `; did you mean ${guess}?`;
}
