// Loads kiln.yaml once at the boundary: every problem is reported together, with file:line:column and dot-path.
import { deepFreeze } from '../core/json.js';
import { closest } from '../core/suggest.js';
import { checkLicensePolicy, licensePolicyOf } from '../license/policy.js';
import { parseRegistryRef } from '../registry/remote/ref.js';
import { checkGraph, graphShapeOf } from './graph.js';
import { type KilnConfig, KilnConfigSchema, KNOWN_KEYS } from './schema.js';
import {
  type ConfigFileKind,
  type ConfigProblem,
  configError,
  locatedProblems,
  readConfigText,
  readYaml,
  schemaProblems,
} from './yaml.js';

export { type ConfigProblem, MAX_CONFIG_BYTES } from './yaml.js';

/** What kiln.yaml's errors say. */
const KILN_YAML: ConfigFileKind = {
  name: 'kiln.yaml',
  schemaFile: 'schema/kiln.schema.json',
  tooLargeHint:
    'kiln.yaml describes steps, not data: use one perPackage step instead of a step per package, and keep long lists (inputs, commands) in files or scripts the steps read',
  notFoundHint:
    'create a kiln.yaml in the project directory (docs/guide/kiln-yaml.md has examples) or pass the directory that has one',
};

/** Reads and validates a kiln.yaml file; throws KILN_CONFIG_NOT_FOUND or KILN_CONFIG_INVALID. */
export async function loadConfigFile(file: string): Promise<{ config: KilnConfig; text: string }> {
  const text = await readConfigText(file, KILN_YAML);
  return { config: parseConfig(text, file), text };
}

/** Parses kiln.yaml text; all problems at once in one KILN_CONFIG_INVALID error. Linear in the text's size. */
export function parseConfig(text: string, file: string): KilnConfig {
  const { raw, locate } = readYaml(text, file, KILN_YAML);
  const parsed = KilnConfigSchema.safeParse(raw ?? {});
  const problems: ConfigProblem[] = parsed.success ? [] : schemaProblems(parsed.error.issues, locate, knownKeysAt);
  problems.push(...locatedProblems(checkGraph(parsed.success ? parsed.data : graphShapeOf(raw)), locate));
  if (parsed.success) {
    problems.push(
      ...locatedProblems([...licenseListProblems(parsed.data), ...environmentProblems(parsed.data)], locate),
    );
  }
  if (!parsed.success || problems.length > 0) throw configError(file, problems, KILN_YAML);
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
