// PEP 508 environment marker syntax (packaging.python.org "Dependency specifiers"), parsed as pypa/packaging reads it.
import { type MarkerOp, versionSpec } from './marker-compare.js';

/** The spec's marker variables. */
const SPEC_VARIABLES = [
  'os_name',
  'sys_platform',
  'platform_system',
  'platform_machine',
  'platform_release',
  'platform_version',
  'implementation_name',
  'platform_python_implementation',
  'python_version',
  'python_full_version',
  'implementation_version',
  'extra',
  'extras',
  'dependency_groups',
] as const;

/** A marker variable, by the spec's name. */
export type MarkerVariable = (typeof SPEC_VARIABLES)[number];

/** A parsed marker: comparisons of one variable with one quoted string, joined by `and` (binding tighter) and `or`. */
export type Marker =
  | { readonly kind: 'and' | 'or'; readonly items: readonly Marker[] }
  | {
      readonly kind: 'compare';
      readonly variable: MarkerVariable;
      readonly op: MarkerOp;
      readonly value: string;
      /** `python_version < "3.8"` (true) or `"3.8" > python_version` (false). */
      readonly variableFirst: boolean;
    };

// The spec's variables, and the PEP 345 / setuptools spellings packaging still reads (src/packaging/_parser.py).
const VARIABLES: ReadonlyMap<string, MarkerVariable> = new Map([
  ...SPEC_VARIABLES.map((v) => [v, v] as const),
  ['os.name', 'os_name'],
  ['sys.platform', 'sys_platform'],
  ['platform.version', 'platform_version'],
  ['platform.machine', 'platform_machine'],
  ['platform.python_implementation', 'platform_python_implementation'],
  ['python_implementation', 'platform_python_implementation'],
]);
/** Variables the spec types `Version` (or `Version | String`): compared as PEP 440 versions when both sides are. */
export const VERSION_VARIABLES: ReadonlySet<MarkerVariable> = new Set([
  'python_version',
  'python_full_version',
  'implementation_version',
  'platform_release',
]);
const MAX_DEPTH = 32;
const TOKEN_RE = /[ \t]*(?:([()])|'([^']*)'|"([^"]*)"|(===|==|~=|!=|<=|>=|<|>)|([A-Za-z_][A-Za-z0-9_.]*)|(?=[\s\S]))/y;

interface Token {
  readonly t: 'paren' | 'op' | 'word' | 'string';
  readonly text: string;
  /** 0-based offset in the marker. */
  readonly at: number;
}

class MarkerSyntaxError extends Error {}

/** Parses a marker expression; a string saying what is wrong (and at which column) when it is not one. */
export function parseMarker(text: string): Marker | string {
  try {
    const tokens = tokenize(text);
    let i = 0;
    const fail = (what: string, at = tokens[i]?.at ?? text.length): never => {
      throw new MarkerSyntaxError(`${what} at column ${at + 1} of marker "${text}"`);
    };
    const word = (w: string) => tokens[i]?.t === 'word' && tokens[i]?.text === w && ++i > 0;
    const joined = (kind: 'and' | 'or', item: (depth: number) => Marker, depth: number): Marker => {
      const items = [item(depth)];
      while (word(kind)) items.push(item(depth));
      return items.length === 1 ? (items[0] as Marker) : { kind, items };
    };
    const or = (depth: number): Marker => joined('or', (d) => joined('and', atom, d), depth);
    const atom = (depth: number): Marker => {
      if (tokens[i]?.text !== '(' || tokens[i]?.t !== 'paren') return comparison();
      if (depth >= MAX_DEPTH) fail(`parentheses nested deeper than ${MAX_DEPTH}`);
      i++;
      const inner = or(depth + 1);
      if (tokens[i]?.text !== ')' || tokens[i]?.t !== 'paren') fail('expected ")"');
      i++;
      return inner;
    };
    const operand = () => {
      const token = tokens[i++];
      if (token?.t === 'string') return { literal: token.text };
      const variable = token?.t === 'word' ? VARIABLES.get(token.text) : undefined;
      if (variable === undefined)
        fail(
          token === undefined ? 'expected a marker variable or quoted string' : `unexpected "${token.text}"`,
          token?.at,
        );
      return { variable: variable as MarkerVariable };
    };
    const operator = (): MarkerOp => {
      const token = tokens[i];
      if (token?.t === 'op') {
        i++;
        return token.text as MarkerOp;
      }
      if (word('in')) return 'in';
      if (word('not')) return word('in') ? 'not in' : fail('expected "in" after "not"');
      return fail('expected an operator (<, <=, ==, !=, >=, >, ~=, ===, in, not in)');
    };
    const comparison = (): Marker => {
      const start = tokens[i]?.at;
      const left = operand();
      const op = operator();
      const right = operand();
      const variable = left.variable ?? right.variable;
      const value = left.literal ?? right.literal;
      if (variable === undefined || value === undefined)
        return fail(
          `a comparison needs one variable and one quoted string, not two ${variable ? 'variables' : 'strings'}`,
          start,
        );
      const problem = comparisonProblem(variable, op, value, left.variable !== undefined);
      return problem
        ? fail(problem, start)
        : { kind: 'compare', variable, op, value, variableFirst: left.variable !== undefined };
    };
    const marker = or(0);
    if (i < tokens.length) fail(`unexpected "${tokens[i]?.text}"`);
    return marker;
  } catch (err) {
    if (err instanceof MarkerSyntaxError) return err.message;
    throw err;
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const body = text.replace(/[ \t]+$/, ''); // so that every match below starts a token
  TOKEN_RE.lastIndex = 0;
  while (TOKEN_RE.lastIndex < body.length) {
    const m = TOKEN_RE.exec(body);
    if (m === null) break;
    const at = m.index + (m[0].length - m[0].trimStart().length);
    const [, paren, single, double, op, name] = m;
    const quoted = single ?? double;
    if (quoted?.includes('\\'))
      throw new MarkerSyntaxError(`a backslash (escapes are not defined) at column ${at + 1} of marker "${text}"`);
    if (paren !== undefined) tokens.push({ t: 'paren', text: paren, at });
    else if (quoted !== undefined) tokens.push({ t: 'string', text: quoted, at });
    else if (op !== undefined) tokens.push({ t: 'op', text: op, at });
    else if (name !== undefined) tokens.push({ t: 'word', text: name, at });
    else {
      const c = text[at] ?? '';
      const what = c === '"' || c === "'" ? 'an unterminated string' : `unexpected "${c}"`;
      throw new MarkerSyntaxError(`${what} at column ${at + 1} of marker "${text}"`);
    }
  }
  return tokens;
}

/** Why a comparison can never be evaluated (packaging's UndefinedComparison, known before any environment). */
function comparisonProblem(variable: MarkerVariable, op: MarkerOp, value: string, variableFirst: boolean) {
  if (variable === 'extras' || variable === 'dependency_groups')
    return op === 'in' || op === 'not in'
      ? variableFirst
        ? `${variable} is a set of names: write "name" ${op} ${variable}`
        : undefined
      : `${variable} is a set of names: only "name" in ${variable} (or not in) compares it`;
  if ((op === '~=' || op === '===') && !VERSION_VARIABLES.has(variable))
    return `"${op}" compares versions, and ${variable} is not a version`;
  if ((op === '~=' || op === '===') && variableFirst && versionSpec(op, value) === undefined)
    return `"${op}${value}" is not a version specifier (PEP 440)`;
  return undefined;
}
