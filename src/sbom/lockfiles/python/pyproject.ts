// pyproject.toml → the project's name and its direct dependencies by kind (what poetry.lock does not record).
import { type GraphRoot, lockfileInvalid } from '../../graph.js';
import {
  isTomlTable,
  parseTomlFile,
  showToml,
  type TomlDocument,
  type TomlTable,
  type TomlValue,
} from '../toml/toml.js';
import { normalizePythonName, pythonRoot, requirementName } from './name.js';

/** The project's own declarations, names PEP 503-normalised. */
export interface PythonProject {
  readonly root: GraphRoot | undefined;
  /** Needed at run time: `[project].dependencies`, `[tool.poetry.dependencies]` (but `python`). */
  readonly main: ReadonlySet<string>;
  /** Only with an extra: `[project.optional-dependencies]`, poetry dependencies marked `optional = true`. */
  readonly optional: ReadonlySet<string>;
  /** Only while developing: poetry groups and `dev-dependencies`, PEP 735 `[dependency-groups]`, uv's dev-dependencies. */
  readonly dev: ReadonlySet<string>;
}

/** Reads pyproject.toml; throws KILN_LOCKFILE_INVALID naming file:line for broken TOML or wrongly typed fields. */
export function readPyproject(text: string, file: string): PythonProject {
  const doc = parseTomlFile(text, file, 'Fix the syntax error in pyproject.toml or restore it from git.');
  const problems: string[] = [];
  const get = (path: readonly string[]): { table: TomlTable; key: string; value: TomlValue } | undefined => {
    let table = doc.root;
    for (const [i, key] of path.entries()) {
      const value = table[key];
      if (value === undefined) return undefined;
      if (i === path.length - 1) return { table, key, value };
      if (!isTomlTable(value))
        return void problems.push(wrong(doc, file, table, key, path.slice(0, i + 1), 'a table', value));
      table = value;
    }
    return undefined;
  };
  const main = new Set<string>();
  const optional = new Set<string>();
  const dev = new Set<string>();
  const pep508List = (path: readonly string[], into: Set<string>) => {
    const found = get(path);
    if (found === undefined) return;
    if (!Array.isArray(found.value))
      return void problems.push(wrong(doc, file, found.table, found.key, path, 'an array', found.value));
    for (const item of found.value) {
      const name = typeof item === 'string' ? requirementName(item) : undefined;
      if (name !== undefined) into.add(normalizePythonName(name));
      else if (!isTomlTable(item))
        problems.push(wrong(doc, file, found.table, found.key, path, 'requirement strings', item));
    }
  };
  const poetryTable = (path: readonly string[], into: Set<string>) => {
    const found = get(path);
    if (found === undefined) return;
    if (!isTomlTable(found.value))
      return void problems.push(wrong(doc, file, found.table, found.key, path, 'a table', found.value));
    for (const [name, spec] of Object.entries(found.value)) {
      if (name === 'python') continue;
      const isOptional = isTomlTable(spec) && spec.optional === true;
      (isOptional ? optional : into).add(normalizePythonName(name));
    }
  };
  const tablesOfLists = (path: readonly string[], into: Set<string>) => {
    const found = get(path);
    if (found === undefined) return;
    if (!isTomlTable(found.value))
      return void problems.push(wrong(doc, file, found.table, found.key, path, 'a table', found.value));
    for (const key of Object.keys(found.value)) pep508List([...path, key], into);
  };
  pep508List(['project', 'dependencies'], main);
  tablesOfLists(['project', 'optional-dependencies'], optional);
  tablesOfLists(['dependency-groups'], dev);
  pep508List(['tool', 'uv', 'dev-dependencies'], dev);
  poetryTable(['tool', 'poetry', 'dependencies'], main);
  poetryTable(['tool', 'poetry', 'dev-dependencies'], dev);
  const groups = get(['tool', 'poetry', 'group'])?.value;
  if (isTomlTable(groups))
    for (const g of Object.keys(groups)) poetryTable(['tool', 'poetry', 'group', g, 'dependencies'], dev);
  const name = stringAt(get(['project', 'name'])) ?? stringAt(get(['tool', 'poetry', 'name']));
  const version = stringAt(get(['project', 'version'])) ?? stringAt(get(['tool', 'poetry', 'version'])) ?? '';
  if (problems.length > 0)
    throw lockfileInvalid(file, 'pyproject.toml', problems, 'Fix the fields named above in pyproject.toml.');
  return { root: name === undefined ? undefined : pythonRoot(name, version), main, optional, dev };
}

function stringAt(found: { value: TomlValue } | undefined): string | undefined {
  return typeof found?.value === 'string' && found.value !== '' ? found.value : undefined;
}

function wrong(
  doc: TomlDocument,
  file: string,
  table: TomlTable,
  key: string,
  path: readonly string[],
  expected: string,
  found: TomlValue,
): string {
  return `${file}:${doc.line(table, key)}: ${path.join('.')} must be ${expected}, found ${showToml(found)}`;
}
