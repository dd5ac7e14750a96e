// Poetry poetry.lock (lock-version 1.x and 2.x) → ComponentGraph, with pyproject.toml naming the direct dependencies.
import { sha256Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import {
  assembleGraph,
  type ComponentGraph,
  type ComponentHash,
  type ComponentScope,
  lockfileInvalid,
} from './graph.js';
import { normalizePythonName, parsePythonHash, pypiPurl, UNNAMED_PYTHON_ROOT } from './python-name.js';
import { type PythonProject, readPyproject } from './python-pyproject.js';
import { propagatePythonScopes } from './python-scope.js';
import { isTomlTable, parseTomlFile, showToml, type TomlTable, type TomlValue } from './toml.js';

/** What poetry.lock does not record: the project's name and direct dependencies, from its pyproject.toml. */
export interface ReadPoetryLockfileOptions {
  readonly pyproject?: { readonly text: string; readonly file: string };
}

interface LockedPackage {
  readonly name: string;
  readonly version: string;
  readonly purl: string;
  readonly marked: ComponentScope | undefined;
  readonly hashes: readonly ComponentHash[];
  readonly dependencies: readonly string[];
}

const HINT = 'Regenerate it with `poetry lock` and commit the result.';
const PYPI_SIMPLE = /^https:\/\/pypi\.org\/simple\/?$/;

/**
 * Reads poetry.lock's text into a frozen ComponentGraph. Pure.
 * Scope: lock-version 1.x and poetry 1.1–1.4 mark `category = "main" | "dev"`, poetry 2 marks `groups`; packages
 * only an extra installs (`optional = true`) are `optional`. Lockfiles of poetry 1.5–1.8 mark neither: then the
 * scope follows the edges from pyproject.toml's main, optional and dev dependencies. Direct: pyproject.toml's
 * dependencies; without it, the locked packages no other locked package depends on.
 */
export function readPoetryLockfile(
  text: string,
  file: string,
  options: ReadPoetryLockfileOptions = {},
): ComponentGraph {
  const doc = parseTomlFile(text, file, `Fix the syntax error or restore the file from git. ${HINT}`);
  const problems: string[] = [];
  const at = (t: TomlTable, key?: string) => `${file}:${doc.line(t, key)}`;
  const metadata = doc.root.metadata;
  const lockVersion = isTomlTable(metadata) ? metadata['lock-version'] : undefined;
  if (typeof lockVersion === 'string' && Number.parseInt(lockVersion, 10) > 2) {
    throw new KilnError(
      'E_LOCKFILE_INVALID',
      `${file}: lock-version ${lockVersion}; Kiln reads poetry lockfiles 1.x and 2.x`,
      {
        hint: 'Upgrade Kiln, or lock with a Poetry version that writes lock-version 2.x.',
        details: { file, lockVersion },
      },
    );
  }
  const oldFiles = isTomlTable(metadata) && isTomlTable(metadata.files) ? metadata.files : undefined;
  const packageList = doc.root.package ?? [];
  if (!Array.isArray(packageList) || !packageList.every(isTomlTable)) {
    problems.push(
      `${at(doc.root, 'package')}: "package" must be an array of tables ([[package]]), found ${showToml(packageList)}`,
    );
  }
  const tables = Array.isArray(packageList) ? packageList.filter(isTomlTable) : [];
  const packages = tables.map((t) => packageOf(t, at, oldFiles, problems)).filter((p) => p !== undefined);
  if (problems.length > 0) throw lockfileInvalid(file, 'poetry lockfile', problems, HINT);
  const project = options.pyproject ? readPyproject(options.pyproject.text, options.pyproject.file) : undefined;
  return buildGraph(packages, project, { path: file, digest: sha256Digest(text) });
}

function buildGraph(
  packages: readonly LockedPackage[],
  project: PythonProject | undefined,
  lockfile: { path: string; digest: ReturnType<typeof sha256Digest> },
): ComponentGraph {
  const byName = new Map<string, string[]>();
  for (const p of packages)
    byName.set(normalizePythonName(p.name), [...(byName.get(normalizePythonName(p.name)) ?? []), p.purl]);
  const refsOf = (names: Iterable<string>) => [...names].flatMap((n) => byName.get(n) ?? []);
  // A dependency poetry did not lock (another platform's, or an extra nobody asked for) is not installed: no edge.
  const edges = new Map(packages.map((p) => [p.purl, refsOf(p.dependencies)]));
  const dependedOn = new Set([...edges.values()].flat());
  const direct = project
    ? refsOf([...project.main, ...project.optional, ...project.dev])
    : packages.map((p) => p.purl).filter((r) => !dependedOn.has(r));
  const unmarked = packages.every((p) => p.marked === undefined);
  const propagated =
    unmarked && project
      ? propagatePythonScopes(edges, {
          main: refsOf(project.main),
          optional: refsOf(project.optional),
          dev: refsOf(project.dev),
        })
      : undefined;
  return assembleGraph({
    root: project?.root ?? UNNAMED_PYTHON_ROOT,
    rootDependsOn: direct,
    installed: packages.map((p) => ({
      name: p.name,
      version: p.version,
      purl: p.purl,
      scope: p.marked ?? propagated?.get(p.purl) ?? 'runtime',
      hashes: p.hashes,
      dependsOn: edges.get(p.purl) ?? [],
    })),
    lockfile,
  });
}

function packageOf(
  t: TomlTable,
  at: (t: TomlTable, key?: string) => string,
  oldFiles: TomlTable | undefined,
  problems: string[],
): LockedPackage | undefined {
  const field = (key: string, ok: (v: TomlValue) => boolean, expected: string): TomlValue | undefined => {
    const v = t[key];
    if (v === undefined || ok(v)) return v;
    problems.push(`${at(t, key)}: package "${String(t.name)}": "${key}" must be ${expected}, found ${showToml(v)}`);
    return undefined;
  };
  const nonEmpty = (v: TomlValue) => typeof v === 'string' && v !== '';
  const name = field('name', nonEmpty, 'a non-empty string') as string | undefined;
  const version = field('version', nonEmpty, 'a non-empty string') as string | undefined;
  if (name === undefined || version === undefined) {
    if (t.name === undefined || t.version === undefined)
      problems.push(`${at(t)}: [[package]] needs "name" and "version"`);
    return undefined;
  }
  const category = field('category', (v) => v === 'main' || v === 'dev', '"main" or "dev"');
  const groups = field('groups', (v) => Array.isArray(v) && v.every(nonEmpty), 'an array of group names') as
    | string[]
    | undefined;
  const optional = field('optional', (v) => typeof v === 'boolean', 'true or false') === true;
  const deps = field('dependencies', isTomlTable, 'a table') as TomlTable | undefined;
  const source = field('source', isTomlTable, 'a table') as TomlTable | undefined;
  const files =
    field('files', (v) => Array.isArray(v), 'an array') ??
    oldFiles?.[name] ??
    oldFiles?.[normalizePythonName(name)] ??
    [];
  const main =
    groups === undefined ? (category === undefined ? undefined : category === 'main') : groups.includes('main');
  const marked: ComponentScope | undefined =
    main === undefined ? undefined : !main ? 'dev' : optional ? 'optional' : 'runtime';
  const hashes: ComponentHash[] = [];
  for (const f of Array.isArray(files) ? files : []) {
    const hash = isTomlTable(f) ? f.hash : undefined;
    const parsed = typeof hash === 'string' ? parsePythonHash(hash) : `a file entry needs "hash", found ${showToml(f)}`;
    if (typeof parsed === 'string') problems.push(`${at(t, 'files')}: package "${name}": ${parsed}`);
    else hashes.push(parsed);
  }
  return {
    name,
    version,
    purl: purlOf(name, version, source),
    marked,
    hashes,
    dependencies: Object.keys(deps ?? {}).map(normalizePythonName),
  };
}

/** PyPI's purl; another index gives `repository_url`, git `vcs_url` (at the resolved commit), a URL `download_url`. */
function purlOf(name: string, version: string, source: TomlTable | undefined): string {
  const url = typeof source?.url === 'string' ? source.url : undefined;
  if (source === undefined || url === undefined) return pypiPurl(name, version);
  switch (source.type) {
    case 'legacy':
      return PYPI_SIMPLE.test(url)
        ? pypiPurl(name, version)
        : pypiPurl(name, version, { key: 'repository_url', value: url });
    case 'git': {
      const commit = source.resolved_reference ?? source.reference;
      const at = typeof commit === 'string' && commit !== '' ? `@${commit}` : '';
      return pypiPurl(name, version, { key: 'vcs_url', value: `git+${url}${at}` });
    }
    case 'url':
      return pypiPurl(name, version, { key: 'download_url', value: url });
    default: // file, directory: the project's own source tree
      return pypiPurl(name, version);
  }
}
