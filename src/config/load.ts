// Loads kiln.yaml once at the boundary: every problem is reported together, with file:line:column and dot-path.
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
import { KilnError } from '../core/errors.js';
import { deepFreeze } from '../core/json.js';
import { closest } from '../core/suggest.js';
import { escapeForTerminal } from '../core/terminal.js';
import { checkLicensePolicy, licensePolicyOf } from '../license/policy.js';
import { parseRegistryRef } from '../registry/remote/ref.js';
import { checkGraph, graphShapeOf } from './graph.js';
import { type KilnConfig, KilnConfigSchema, KNOWN_KEYS } from './schema.js';

/** One thing wrong with a config file, located precisely. */
export interface ConfigProblem {
  readonly path: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** The largest kiln.yaml Kiln reads: it describes steps, not data (real ones have a few KB). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** How many times YAML aliases may be expanded: enough for shared snippets, far too few for a "billion laughs". */
const MAX_ALIAS_COUNT = 100;

/** Reads and validates a kiln.yaml file; throws KILN_CONFIG_NOT_FOUND or KILN_CONFIG_INVALID. */
export async function loadConfigFile(file: string): Promise<{ config: KilnConfig; text: string }> {
  let text: string;
  try {
    // The size is checked before reading, so a huge file (or /dev/zero behind a symlink) is never held in memory.
    const stat = await fsp.stat(file);
    if (stat.isFile() && stat.size > MAX_CONFIG_BYTES) throw tooLarge(file, stat.size);
    text = await fsp.readFile(file, 'utf8');
  } catch (cause) {
    if (cause instanceof KilnError) throw cause;
    throw new KilnError('KILN_CONFIG_NOT_FOUND', `no kiln.yaml at ${file}`, {
      cause,
      hint: 'create a kiln.yaml in the project directory (docs/guide/kiln-yaml.md has examples) or pass the directory that has one',
    });
  }
  return { config: parseConfig(text, file), text };
}

/** Parses kiln.yaml text; all problems at once in one KILN_CONFIG_INVALID error. Linear in the text's size. */
export function parseConfig(text: string, file: string): KilnConfig {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_CONFIG_BYTES) throw tooLarge(file, bytes);
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
  if (problems.length > 0) throw configError(file, problems);
  const raw = toData(doc, file);
  const locate = (path: readonly PropertyKey[], key?: string): { line: number; column: number } => {
    const node = nodeAt(doc.contents, path, key);
    return at(node?.range?.[0] ?? 0);
  };
  const parsed = KilnConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
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
  }
  for (const p of checkGraph(parsed.success ? parsed.data : graphShapeOf(raw)))
    problems.push({ ...p, path: dotPath(p.path), ...locate(p.path) });
  if (parsed.success) {
    for (const p of [...licenseListProblems(parsed.data), ...environmentProblems(parsed.data)]) {
      problems.push({ ...p, path: dotPath(p.path), ...locate(p.path) });
    }
  }
  if (!parsed.success || problems.length > 0) throw configError(file, problems);
  return deepFreeze(parsed.data);
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
function toData(doc: ReturnType<typeof parseDocument>, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (cause) {
    const aliases = cause instanceof ReferenceError && /alias/i.test(cause.message);
    const message = aliases
      ? TOO_MANY_ALIASES
      : `the document cannot be read as data (${cause instanceof Error ? cause.message : String(cause)}); nest it less deeply`;
    throw configError(file, [{ path: '', line: 1, column: 1, message }]);
  }
}

function tooLarge(file: string, bytes: number): KilnError {
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return new KilnError(
    'KILN_CONFIG_INVALID',
    `${file} is ${mib(bytes)}, more than the ${mib(MAX_CONFIG_BYTES)} a kiln.yaml may have`,
    {
      hint: 'kiln.yaml describes steps, not data: use one perPackage step instead of a step per package, and keep long lists (inputs, commands) in files or scripts the steps read',
      details: { problems: [{ path: '', line: 1, column: 1, message: `larger than ${MAX_CONFIG_BYTES} bytes` }] },
    },
  );
}

/** The license lists' entries that are not SPDX ids, or are both allowed and denied (`deny[2]: …`). */
function licenseListProblems(config: KilnConfig): { path: (string | number)[]; message: string }[] {
  return checkLicensePolicy(licensePolicyOf(config.policy.licenses)).map((problem) => {
    const m = /^(allow|deny)\[(\d+)\]: (.*)$/s.exec(problem);
    return m?.[1] && m[2] && m[3]
      ? { path: ['policy', 'licenses', m[1], Number(m[2])], message: m[3] }
      : { path: ['policy', 'licenses'], message: problem };
  });
}

/** Repositories must be what the registry client accepts (one parser for both), and `after` another environment. */
function environmentProblems(config: KilnConfig): { path: (string | number)[]; message: string }[] {
  const names = Object.keys(config.environments);
  const repositories: [(string | number)[], string][] = [
    ...(config.publish ? [[['publish', 'to'], config.publish.to] as [(string | number)[], string]] : []),
    ...Object.entries(config.environments).map(([name, env]): [(string | number)[], string] => [
      ['environments', name, 'repository'],
      env.repository,
    ]),
  ];
  const refProblems = repositories.flatMap(([path, text]) => {
    try {
      parseRegistryRef(text);
      return [];
    } catch (err) {
      return [{ path, message: err instanceof Error ? err.message : String(err) }];
    }
  });
  return [...refProblems, ...afterProblems(config, names)];
}

function afterProblems(config: KilnConfig, names: readonly string[]): { path: (string | number)[]; message: string }[] {
  return Object.entries(config.environments).flatMap(([name, env]) => {
    if (env.after === undefined || (env.after !== name && names.includes(env.after))) return [];
    const hint = closest(
      env.after,
      names.filter((n) => n !== name),
    );
    return [
      {
        path: ['environments', name, 'after'],
        message: `unknown environment "${env.after}"${hint ? ` (did you mean "${hint}"?)` : ''}`,
      },
    ];
  });
}

function knownKeysAt(path: readonly PropertyKey[]): readonly string[] {
  if (path.length === 0) return KNOWN_KEYS.root;
  if (path[0] === 'steps' && path.length === 2) return KNOWN_KEYS.step;
  if (path[0] === 'artifacts' && path.length === 2) return KNOWN_KEYS.artifact;
  if (path[0] === 'signing') return KNOWN_KEYS.signing;
  if (path[0] === 'cache') return KNOWN_KEYS.cache;
  if (path[0] === 'sandbox') return KNOWN_KEYS.sandbox;
  if (path[0] === 'publish') return KNOWN_KEYS.publish;
  if (path[0] === 'environments' && path.length === 2) return KNOWN_KEYS.environment;
  if (path[0] === 'retention') return KNOWN_KEYS.retention;
  if (path[0] === 'policy') {
    if (path.length === 1) return KNOWN_KEYS.policy;
    if (path[1] === 'vulnerabilities') return KNOWN_KEYS.vulnerabilities;
    if (path[1] === 'licenses') return KNOWN_KEYS.licenses;
    if (path[1] === 'exceptions' && path.length === 3) return KNOWN_KEYS.exception;
  }
  return [];
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

function dotPath(path: readonly PropertyKey[]): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
    .join('.')
    .replace(/\.\[/g, '[');
}

function configError(file: string, problems: ConfigProblem[]): KilnError {
  // A problem quotes keys and values of the file: each stays one line, with nothing that could steer a terminal.
  const lines = problems.map(
    (p) => `  ${file}:${p.line}:${p.column}: ${escapeForTerminal(`${p.path ? `${p.path}: ` : ''}${p.message}`)}`,
  );
  return new KilnError('KILN_CONFIG_INVALID', `${file} has ${problems.length} problem(s):\n${lines.join('\n')}`, {
    hint: 'fix the listed keys; the JSON Schema in schema/kiln.schema.json gives editors completion and checks',
    details: { problems },
  });
}
