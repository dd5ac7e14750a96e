// Loads kiln-server.yaml once at the boundary, as kiln.yaml is loaded: every problem at once, each with
// file:line:column and dot-path; then the rules that span keys; then the normalized, frozen ServerConfig.
import { dirname, resolve } from 'node:path';
import { deepFreeze } from '../core/json.js';
import { closest } from '../core/suggest.js';
import { DEFAULT_PRIORITY, normalizeServerConfig, projectDir, type ServerConfig } from './server-config.js';
import { DEFAULT_CLASSES, ServerConfigSchema, serverKeysAt } from './server-schema.js';
import { isLoopback, normalRepository } from './server-urls.js';
import {
  type ConfigFileKind,
  type ConfigProblem,
  configError,
  locatedProblems,
  type PathProblem,
  readConfigText,
  readYaml,
  schemaProblems,
} from './yaml.js';

/** What kiln-server.yaml's errors say. */
const KILN_SERVER_YAML: ConfigFileKind = {
  name: 'kiln-server.yaml',
  schemaFile: 'schema/kiln-server.schema.json',
  tooLargeHint:
    'kiln-server.yaml lists projects, not data: split a very large server into several servers, each with its own file',
  notFoundHint:
    'create kiln-server.yaml (docs/guide/server.md has a full example) or pass the path of the one you have',
};

/** Reads and validates a kiln-server.yaml file; throws KILN_CONFIG_NOT_FOUND or KILN_CONFIG_INVALID. */
export async function loadServerConfigFile(file: string): Promise<ServerConfig> {
  return parseServerConfig(await readConfigText(file, KILN_SERVER_YAML), file);
}

/**
 * Parses kiln-server.yaml text; all problems at once in one KILN_CONFIG_INVALID error. Relative secret files are
 * resolved against the directory of `file`.
 */
export function parseServerConfig(text: string, file: string): ServerConfig {
  const { raw, locate } = readYaml(text, file, KILN_SERVER_YAML);
  const parsed = ServerConfigSchema.safeParse(raw ?? {});
  const problems: ConfigProblem[] = parsed.success ? [] : schemaProblems(parsed.error.issues, locate, serverKeysAt);
  // The rules across keys run on the raw data too, so one run reports them beside the schema's problems; a key the
  // schema already refused is not reported twice.
  const refused = new Set(problems.map((p) => p.path));
  problems.push(...locatedProblems(crossKeyProblems(raw), locate).filter((p) => !refused.has(p.path)));
  if (!parsed.success || problems.length > 0) throw configError(file, problems, KILN_SERVER_YAML);
  return deepFreeze(normalizeServerConfig(parsed.data, dirname(resolve(file))));
}

/**
 * The rules that compare keys with each other: unique names and repositories, known classes, credentials. They read
 * the raw data defensively: whatever is not the expected shape is the schema's to report.
 */
function crossKeyProblems(raw: unknown): PathProblem[] {
  const root = record(raw);
  const classes = Array.isArray(root.classes)
    ? root.classes.filter((c) => typeof c === 'string')
    : [...DEFAULT_CLASSES];
  const problems: PathProblem[] = [];
  const seenClass = new Set<string>();
  for (const [i, name] of classes.entries()) {
    if (seenClass.has(name)) problems.push({ path: ['classes', i], message: `class "${name}" is listed twice` });
    seenClass.add(name);
  }
  const names = new Map<string, number>();
  const places = new Map<string, number>();
  for (const [i, item] of (Array.isArray(root.projects) ? root.projects : []).entries()) {
    const project = record(item);
    const at = (...rest: (string | number)[]) => ['projects', i, ...rest];
    const name = typeof project.name === 'string' ? project.name : undefined;
    const first = name === undefined ? undefined : names.get(name);
    if (first !== undefined) {
      problems.push({ path: at('name'), message: `project "${name}" is already defined at projects[${first}]` });
    } else if (name !== undefined) names.set(name, i);
    const repository = typeof project.repository === 'string' ? normalRepository(project.repository) : undefined;
    const place = `${repository} ${projectDir(typeof project.path === 'string' ? project.path : '.')}`;
    const same = repository === undefined ? undefined : places.get(place);
    if (same !== undefined) {
      const message = `projects[${same}] already builds this repository and path: give each project its own "path"`;
      problems.push({ path: at('repository'), message });
    } else if (repository !== undefined) places.set(place, i);
    problems.push(...priorityProblems(project.priority, classes, at));
    if (project.credentials !== undefined && typeof project.repository === 'string') {
      problems.push(...credentialProblems(project.repository, at('credentials')));
    }
  }
  return problems;
}

/** Each rule's class must be one of `classes`; without rules, the default rules' class must be. */
function priorityProblems(
  priority: unknown,
  classes: readonly string[],
  at: (...rest: (string | number)[]) => (string | number)[],
): PathProblem[] {
  if (priority === undefined) {
    if (classes.includes(DEFAULT_PRIORITY.class)) return [];
    const message = `without "priority", main and release/* are built as "${DEFAULT_PRIORITY.class}", which "classes" does not list: give "priority"`;
    return [{ path: at('name'), message }];
  }
  if (!Array.isArray(priority)) return [];
  return priority.flatMap((rule, r) => {
    const name = record(rule).class;
    if (typeof name !== 'string' || classes.includes(name)) return [];
    const hint = closest(name, classes);
    const message = `unknown priority class "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}; classes: ${classes.join(', ')}`;
    return [{ path: at('priority', r, 'class'), message }];
  });
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function credentialProblems(repository: string, path: (string | number)[]): PathProblem[] {
  if (!/^https?:/i.test(repository)) {
    return [{ path, message: 'credentials are sent to http:// and https:// repositories only: remove them' }];
  }
  if (/^http:/i.test(repository) && !isLoopback(repository)) {
    return [
      { path, message: 'credentials would cross the network in clear over http://: use an https:// repository URL' },
    ];
  }
  return [];
}
