// Poetry poetry.lock (lock-version 1.x and 2.x) → ComponentGraph, with pyproject.toml naming the direct dependencies.
import { sha256Digest } from '../../../core/digest.js';
import { KilnError } from '../../../core/errors.js';
import {
  assembleGraph,
  type ComponentGraph,
  type ComponentHash,
  type ComponentScope,
  lockfileInvalid,
} from '../../graph.js';
import { isTomlTable, parseTomlFile, showToml, type TomlTable, type TomlValue } from '../toml/toml.js';
import { anyMarker, type MarkerEnvironment, type MarkerTruth, markerTruth } from './markers.js';
import { normalizePythonName, parsePythonHash, pypiPurl, UNNAMED_PYTHON_ROOT } from './name.js';
import { type PythonProject, readPyproject } from './pyproject.js';
import { installedPythonGraph, type MarkedEdge, propagatePythonScopes } from './scope.js';

/** What poetry.lock does not record: the project (its pyproject.toml), and where Poetry installs. */
export interface ReadPoetryLockfileOptions {
  readonly pyproject?: { readonly text: string; readonly file: string };
  /** pythonEnvironment(platform); without it, markers naming the platform are unknown. */
  readonly environment?: MarkerEnvironment;
}

interface LockedPackage {
  readonly name: string;
  readonly version: string;
  readonly purl: string;
  readonly marked: ComponentScope | undefined;
  readonly hashes: readonly ComponentHash[];
  /** Its `markers` (Poetry 2: for any of its groups) where Poetry installs; true when it has none. */
  readonly when: MarkerTruth;
  /** Normalised names, each with its `markers` where Poetry installs. */
  readonly dependencies: readonly { readonly name: string; readonly when: MarkerTruth }[];
}

const HINT = 'Regenerate it with `poetry lock` and commit the result.';
const PYPI_SIMPLE = /^https:\/\/pypi\.org\/simple\/?$/;

/**
 * Reads poetry.lock's text into a frozen ComponentGraph. Pure.
 * Scope: lock-version 1.x and poetry 1.1–1.4 mark `category = "main" | "dev"`, poetry 2 marks `groups`; packages
 * only an extra installs (`optional = true`) are `optional`. Lockfiles of poetry 1.5–1.8 mark neither: then the
 * scope follows the edges from pyproject.toml's main, optional and dev dependencies. Direct: pyproject.toml's
 * dependencies; without it, the locked packages no other locked package depends on. Markers are evaluated where
 * Poetry installs (`options.environment`): a dependency whose `markers` are false is no edge, and a package is left
 * out when its own `markers` are false or every edge to it is; what turns on an unknown (the Python version) is kept.
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
      'KILN_LOCKFILE_INVALID',
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
  const environment = options.environment ?? {};
  const packages = tables
    .map((t) => packageOf(t, at, { oldFiles, environment }, problems))
    .filter((p) => p !== undefined);
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
  const marked = new Map(
    packages.map((p) => [p.purl, p.dependencies.flatMap((d) => refsOf([d.name]).map((to) => ({ to, when: d.when })))]),
  );
  const declared = (names: Iterable<string>): MarkedEdge[] => refsOf(names).map((to) => ({ to, when: true }));
  const { leftOut, edges, starts } = installedPythonGraph(
    new Map(packages.map((p) => [p.purl, p.when])),
    marked,
    project
      ? { main: declared(project.main), optional: declared(project.optional), dev: declared(project.dev) }
      : { main: [], optional: [], dev: [] },
  );
  const dependedOn = new Set([...marked.values()].flat().map((e) => e.to));
  const direct = project
    ? [...starts.main, ...starts.optional, ...starts.dev]
    : packages.map((p) => p.purl).filter((r) => !dependedOn.has(r) && !leftOut.has(r));
  const unmarked = packages.every((p) => p.marked === undefined);
  const propagated = unmarked && project ? propagatePythonScopes(edges, starts) : undefined;
  return assembleGraph({
    root: project?.root ?? UNNAMED_PYTHON_ROOT,
    rootDependsOn: direct,
    installed: packages
      .filter((p) => !leftOut.has(p.purl))
      .map((p) => ({
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
  ctx: { oldFiles: TomlTable | undefined; environment: MarkerEnvironment },
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
    ctx.oldFiles?.[name] ??
    ctx.oldFiles?.[normalizePythonName(name)] ??
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
  const truth = (marker: TomlValue | undefined, table: TomlTable, key: string): MarkerTruth => {
    if (marker === undefined) return true;
    const report = (problem: string) => problems.push(`${at(table, key)}: package "${name}": ${problem}`);
    if (typeof marker === 'string') return markerTruth(marker, ctx.environment, report);
    report(`"${key}" must be a marker string, found ${showToml(marker)}`);
    return 'unknown'; // so that reading goes on to the other problems
  };
  const any = (truths: readonly MarkerTruth[]) => (truths.length === 0 ? true : anyMarker(truths));
  // Poetry 2 writes one marker for all the package's groups, or a table of them by group (none: that group always).
  const markers = t.markers;
  const when = isTomlTable(markers)
    ? any((groups ?? Object.keys(markers)).map((g) => truth(markers[g], markers, g)))
    : truth(markers, t, 'markers');
  // `name = ">=1"`, `name = { version, markers }`, or a list of such tables (one per constraint): any of them.
  const dependencies = Object.entries(deps ?? {}).map(([dep, spec]) => ({
    name: normalizePythonName(dep),
    when: any(
      (Array.isArray(spec) ? spec : [spec]).map((c) => (isTomlTable(c) ? truth(c.markers, c, 'markers') : true)),
    ),
  }));
  return { name, version, purl: purlOf(name, version, source), marked, hashes, when, dependencies };
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
