// Loads kiln-server.yaml once at the boundary, as kiln.yaml is loaded: every problem at once, each with
// file:line:column and dot-path; then the rules that span keys; then the normalized, frozen ServerConfig.
import { dirname, resolve } from 'node:path';
import { deepFreeze } from '../core/json.js';
import { closest } from '../core/suggest.js';
import { DEFAULT_PRIORITY, normalizeServerConfig, type ServerConfig } from './server-config.js';
import { type ParsedServerConfig, ServerConfigSchema, serverKeysAt } from './server-schema.js';
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
  const problems: ConfigProblem[] = parsed.success
    ? locatedProblems(crossKeyProblems(parsed.data), locate)
    : schemaProblems(parsed.error.issues, locate, serverKeysAt);
  if (!parsed.success || problems.length > 0) throw configError(file, problems, KILN_SERVER_YAML);
  return deepFreeze(normalizeServerConfig(parsed.data, dirname(resolve(file))));
}

/** The rules that compare keys with each other: unique names and repositories, known classes, credentials. */
function crossKeyProblems(config: ParsedServerConfig): PathProblem[] {
  const problems: PathProblem[] = [];
  const seenClass = new Set<string>();
  for (const [i, name] of config.classes.entries()) {
    if (seenClass.has(name)) problems.push({ path: ['classes', i], message: `class "${name}" is listed twice` });
    seenClass.add(name);
  }
  const names = new Map<string, number>();
  const places = new Map<string, number>();
  for (const [i, project] of config.projects.entries()) {
    const at = (...rest: (string | number)[]) => ['projects', i, ...rest];
    const first = names.get(project.name);
    if (first !== undefined) {
      problems.push({
        path: at('name'),
        message: `project "${project.name}" is already defined at projects[${first}]`,
      });
    } else names.set(project.name, i);
    const place = `${normalRepository(project.repository)} ${project.path.replace(/^(\.\/)+/, '').replace(/\/+$/, '')}`;
    const same = places.get(place);
    if (same !== undefined) {
      const message = `projects[${same}] already builds this repository and path: give each project its own "path"`;
      problems.push({ path: at('repository'), message });
    } else places.set(place, i);
    for (const [r, rule] of (project.priority ?? []).entries()) {
      if (!config.classes.includes(rule.class)) {
        const hint = closest(rule.class, config.classes);
        const message = `unknown priority class "${rule.class}"${hint ? ` (did you mean "${hint}"?)` : ''}; classes: ${config.classes.join(', ')}`;
        problems.push({ path: at('priority', r, 'class'), message });
      }
    }
    if (project.priority === undefined && !config.classes.includes(DEFAULT_PRIORITY.class)) {
      const message = `without "priority", main and release/* are built as "${DEFAULT_PRIORITY.class}", which "classes" does not list: give "priority"`;
      problems.push({ path: at('name'), message });
    }
    if (project.credentials) problems.push(...credentialProblems(project.repository, at('credentials')));
  }
  return problems;
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
