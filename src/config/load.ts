// Loads kiln.yaml once at the boundary: every problem is reported together, with file:line:column and dot-path.
import { promises as fsp } from 'node:fs';
import { isMap, isPair, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
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

/** Reads and validates a kiln.yaml file; throws KILN_CONFIG_NOT_FOUND or KILN_CONFIG_INVALID. */
export async function loadConfigFile(file: string): Promise<{ config: KilnConfig; text: string }> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (cause) {
    throw new KilnError('KILN_CONFIG_NOT_FOUND', `no kiln.yaml at ${file}`, {
      cause,
      hint: 'create a kiln.yaml in the project directory (docs/guide/kiln-yaml.md has examples) or pass the directory that has one',
    });
  }
  return { config: parseConfig(text, file), text };
}

/** Parses kiln.yaml text; all problems at once in one KILN_CONFIG_INVALID error. */
export function parseConfig(text: string, file: string): KilnConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number): { line: number; column: number } => {
    const pos = lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => ({
      path: '',
      ...at(e.pos[0]),
      message: e.message.split('\n')[0] ?? e.code,
    }));
    throw configError(file, problems);
  }
  const raw: unknown = doc.toJS();
  const locate = (path: readonly PropertyKey[], key?: string): { line: number; column: number } => {
    const node = nodeAt(doc.contents, path, key);
    return at(node?.range?.[0] ?? 0);
  };
  const parsed = KilnConfigSchema.safeParse(raw ?? {});
  const problems: ConfigProblem[] = [];
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
    const items = (node as { items: unknown[] }).items;
    const next = isMap(node)
      ? items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(part))
      : items[Number(part)];
    if (next === undefined) break;
    node = (isPair(next) ? (next.value ?? next.key) : next) as Node;
    last = node;
  }
  if (key !== undefined && last && isMap(last)) {
    const pair = last.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    if (pair && isScalar(pair.key)) return pair.key;
  }
  return last;
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
