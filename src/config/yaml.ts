// The part of config loading both kiln.yaml and kiln-server.yaml share: YAML text → plain data plus a locator, with
// every problem of the text (syntax, duplicate keys, alias bombs, size) and of the schema located at file:line:column.
import { promises as fsp } from 'node:fs';
import {
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  LineCounter,
  type Node,
  parseDocument,
  type YAMLMap,
} from 'yaml';
import type * as z from 'zod';
import { KilnError } from '../core/errors.js';
import { closest } from '../core/suggest.js';
import { escapeForTerminal } from '../core/terminal.js';

/** One thing wrong with a config file, located precisely. */
export interface ConfigProblem {
  readonly path: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** A problem found on validated data: its path as keys and indexes, located by the caller. */
export interface PathProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** Which config file is read: the words its errors use. */
export interface ConfigFileKind {
  /** `kiln.yaml` or `kiln-server.yaml`. */
  readonly name: string;
  /** The committed JSON Schema editors use, named in the hint of every invalid file. */
  readonly schemaFile: string;
  /** How to fix a file over MAX_CONFIG_BYTES. */
  readonly tooLargeHint: string;
  /** How to fix a missing file. */
  readonly notFoundHint: string;
}

/** Where in the text a data path is: line and column (1-based) of its node, or of the key `key` under it. */
export type Locate = (path: readonly PropertyKey[], key?: string) => { line: number; column: number };

/** The largest config file Kiln reads: config describes things, not data (real ones have a few KB). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** How many times YAML aliases may be expanded: enough for shared snippets, far too few for a "billion laughs". */
const MAX_ALIAS_COUNT = 100;

/** Reads a config file's text; a file over MAX_CONFIG_BYTES is refused before it is read. */
export async function readConfigText(file: string, kind: ConfigFileKind): Promise<string> {
  try {
    // The size is checked before reading, so a huge file (or /dev/zero behind a symlink) is never held in memory.
    const stat = await fsp.stat(file);
    if (stat.isFile() && stat.size > MAX_CONFIG_BYTES) throw tooLarge(file, stat.size, kind);
    return await fsp.readFile(file, 'utf8');
  } catch (cause) {
    if (cause instanceof KilnError) throw cause;
    throw new KilnError('KILN_CONFIG_NOT_FOUND', `no ${kind.name} at ${file}`, { cause, hint: kind.notFoundHint });
  }
}

/**
 * Parses YAML text into plain data and a locator. Syntax errors, duplicate keys and too many aliases are thrown at
 * once as one KILN_CONFIG_INVALID error, each located. Linear in the text's size.
 */
export function readYaml(text: string, file: string, kind: ConfigFileKind): { raw: unknown; locate: Locate } {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_CONFIG_BYTES) throw tooLarge(file, bytes, kind);
  const lines = new LineCounter();
  // uniqueKeys: false because the yaml package compares each key with every earlier one (quadratic in a map's
  // size: 265 s for an 8 MB file); treeProblems() does the same check with a set.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false });
  const at = (offset: number): { line: number; column: number } => {
    const pos = lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  const syntax = doc.errors.map((e) => ({
    path: '',
    ...at(e.pos[0]),
    message: e.message.split('\n')[0] ?? e.code,
  }));
  const problems: ConfigProblem[] = syntax.length > 0 ? syntax : treeProblems(doc.contents, at);
  if (problems.length > 0) throw configError(file, problems, kind);
  const raw = toData(doc, file, kind);
  const locate: Locate = (path, key) => at(nodeAt(doc.contents, path, key)?.range?.[0] ?? 0);
  return { raw, locate };
}

/** Zod's issues as located problems; an unknown key gets a "did you mean" among the keys known at its place. */
export function schemaProblems(
  issues: readonly z.core.$ZodIssue[],
  locate: Locate,
  knownKeysAt: (path: readonly PropertyKey[]) => readonly string[],
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const hint = closest(key, knownKeysAt(issue.path));
        problems.push({
          path: dotPath([...issue.path, key]),
          ...locate(issue.path, key),
          message: `unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`,
        });
      }
    } else {
      problems.push({ path: dotPath(issue.path), ...locate(issue.path), message: issue.message });
    }
  }
  return problems;
}

/** Problems found on data, located in the text. */
export function locatedProblems(found: readonly PathProblem[], locate: Locate): ConfigProblem[] {
  return found.map((p) => ({ path: dotPath(p.path), ...locate(p.path), message: p.message }));
}

const DUPLICATE = 'Map keys must be unique';

/** Offsets of the keys that repeat an earlier key of their map, and of the aliases past MAX_ALIAS_COUNT, in one
 * pass over the tree. No recursion, so a deeply nested document cannot overflow the stack; and the yaml package
 * looks up each alias among all anchors, so their number is capped before it resolves them. */
function treeProblems(root: unknown, at: (offset: number) => { line: number; column: number }): ConfigProblem[] {
  const duplicates: number[] = [];
  const aliases: number[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isAlias(node)) aliases.push(node.range?.[0] ?? 0);
    if (!isCollection(node)) continue;
    const seen = new Set<unknown>();
    for (const item of node.items) {
      if (isPair(item)) {
        const key = isScalar(item.key) ? item.key.value : item.key;
        if (seen.has(key) && isScalar(item.key)) duplicates.push(item.key.range?.[0] ?? 0);
        seen.add(key);
        stack.push(item.key, item.value);
      } else stack.push(item);
    }
  }
  const problems = duplicates.sort((a, b) => a - b).map((offset) => ({ path: '', ...at(offset), message: DUPLICATE }));
  if (aliases.length > MAX_ALIAS_COUNT) {
    const offset = aliases.sort((a, b) => a - b)[MAX_ALIAS_COUNT] ?? 0;
    problems.push({ path: '', ...at(offset), message: TOO_MANY_ALIASES });
  }
  return problems;
}

const TOO_MANY_ALIASES = `YAML aliases expand to too many values (at most ${MAX_ALIAS_COUNT} uses of aliases in all); write the repeated values out`;

/** The document as plain data; alias expansion is bounded, and a document too deep to convert is a problem too. */
function toData(doc: ReturnType<typeof parseDocument>, file: string, kind: ConfigFileKind): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (cause) {
    const aliases = cause instanceof ReferenceError && /alias/i.test(cause.message);
    const message = aliases
      ? TOO_MANY_ALIASES
      : `the document cannot be read as data (${cause instanceof Error ? cause.message : String(cause)}); nest it less deeply`;
    throw configError(file, [{ path: '', line: 1, column: 1, message }], kind);
  }
}

function tooLarge(file: string, bytes: number, kind: ConfigFileKind): KilnError {
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return new KilnError(
    'KILN_CONFIG_INVALID',
    `${file} is ${mib(bytes)}, more than the ${mib(MAX_CONFIG_BYTES)} a ${kind.name} may have`,
    {
      hint: kind.tooLargeHint,
      details: { problems: [{ path: '', line: 1, column: 1, message: `larger than ${MAX_CONFIG_BYTES} bytes` }] },
    },
  );
}

function nodeAt(root: unknown, path: readonly PropertyKey[], key?: string): Node | undefined {
  let node = root as Node | undefined;
  let last = node;
  for (const part of path) {
    if (!node || !('items' in node)) break;
    const next = isMap(node) ? pairOf(node, String(part)) : (node as { items: unknown[] }).items[Number(part)];
    if (next === undefined) break;
    node = (isPair(next) ? (next.value ?? next.key) : next) as Node;
    last = node;
  }
  if (key !== undefined && last && isMap(last)) {
    const pair = pairOf(last, key);
    if (pair && isScalar(pair.key)) return pair.key;
  }
  return last;
}

/** Each map's pairs by key, built once: locating every problem of a large file stays linear. */
const pairIndex = new WeakMap<YAMLMap, Map<string, unknown>>();

function pairOf(map: YAMLMap, key: string): { key: unknown; value: unknown } | undefined {
  let index = pairIndex.get(map);
  if (!index) {
    index = new Map();
    for (const p of map.items)
      if (isScalar(p.key) && !index.has(String(p.key.value))) index.set(String(p.key.value), p);
    pairIndex.set(map, index);
  }
  return index.get(key) as { key: unknown; value: unknown } | undefined;
}

/** `steps.build.inputs[1]` from ['steps', 'build', 'inputs', 1]. */
export function dotPath(path: readonly PropertyKey[]): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
    .join('.')
    .replace(/\.\[/g, '[');
}

/** All problems of one file as one KILN_CONFIG_INVALID error (`details.problems` has them as data). */
export function configError(file: string, problems: ConfigProblem[], kind: ConfigFileKind): KilnError {
  // A problem quotes keys and values of the file: each stays one line, with nothing that could steer a terminal.
  const lines = problems.map(
    (p) => `  ${file}:${p.line}:${p.column}: ${escapeForTerminal(`${p.path ? `${p.path}: ` : ''}${p.message}`)}`,
  );
  return new KilnError('KILN_CONFIG_INVALID', `${file} has ${problems.length} problem(s):\n${lines.join('\n')}`, {
    hint: `fix the listed keys; the JSON Schema in ${kind.schemaFile} gives editors completion and checks`,
    details: { problems },
  });
}
