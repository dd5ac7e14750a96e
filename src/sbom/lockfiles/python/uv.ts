// uv's uv.lock (version 1) → ComponentGraph: every locked distribution, its sdist and wheel hashes, resolved edges.
import { sha256Digest } from '../../../core/digest.js';
import { KilnError } from '../../../core/errors.js';
import {
  assembleGraph,
  type ComponentGraph,
  type ComponentHash,
  type GraphRoot,
  lockfileInvalid,
} from '../../graph.js';
import { isTomlTable, parseTomlFile, showToml, type TomlTable, type TomlValue } from '../toml/toml.js';
import { anyMarker, type MarkerEnvironment, type MarkerTruth, markerTruth } from './markers.js';
import { normalizePythonName, parsePythonHash, pypiPurl, pythonRoot } from './name.js';
import { installedPythonGraph, type MarkedEdge, propagatePythonScopes } from './scope.js';

/** Where uv installs: pythonEnvironment(platform); without it, markers naming the platform are unknown. */
export interface ReadUvLockfileOptions {
  readonly environment?: MarkerEnvironment;
}

interface UvDependency {
  readonly name: string;
  readonly version: string | undefined;
  readonly source: string | undefined;
  /** Its `marker` where uv installs; true when it has none. */
  readonly when: MarkerTruth;
}

interface UvPackage {
  readonly name: string;
  readonly version: string;
  readonly purl: string;
  /** The project or a workspace member (`editable` or `virtual` source); `.` is the project itself. */
  readonly member: string | undefined;
  readonly sourceKey: string;
  readonly hashes: readonly ComponentHash[];
  /** Its `resolution-markers` (any of the forks it was locked for) where uv installs; true when it has none. */
  readonly when: MarkerTruth;
  readonly main: readonly UvDependency[];
  readonly optional: readonly UvDependency[];
  readonly dev: readonly UvDependency[];
  readonly where: string;
}

const HINT = 'Regenerate it with `uv lock` and commit the result.';
const PYPI = 'https://pypi.org/simple';

/**
 * Reads uv.lock's text into a frozen ComponentGraph. Pure.
 * The root is the package whose source is the project directory (`editable = "."` or `virtual = "."`); its
 * `dependencies` are direct and runtime, its `optional-dependencies` optional and its `dev-dependencies` (dependency
 * groups) dev, each scope carried down the edges. Markers are evaluated where uv installs (`options.environment`):
 * an edge whose `marker` is false is dropped, and a package is left out when its `resolution-markers` are all false
 * or every edge to it is; what turns on an unknown (the Python version, an extra) is kept.
 */
export function readUvLockfile(text: string, file: string, options: ReadUvLockfileOptions = {}): ComponentGraph {
  const environment = options.environment ?? {};
  const doc = parseTomlFile(text, file, `Fix the syntax error or restore the file from git. ${HINT}`);
  const at = (t: TomlTable, key?: string) => `${file}:${doc.line(t, key)}`;
  const version = doc.root.version;
  if (version !== 1) {
    throw new KilnError(
      'KILN_LOCKFILE_INVALID',
      `${at(doc.root, 'version')}: uv.lock version ${showToml(version)}; Kiln reads version 1`,
      {
        hint: 'Upgrade Kiln, or lock with a uv release that writes `version = 1`.',
        details: { file, version },
      },
    );
  }
  const problems: string[] = [];
  const list = doc.root.package ?? [];
  if (!Array.isArray(list) || !list.every(isTomlTable))
    problems.push(
      `${at(doc.root, 'package')}: "package" must be an array of tables ([[package]]), found ${showToml(list)}`,
    );
  const tables = Array.isArray(list) ? list.filter(isTomlTable) : [];
  const packages = tables.map((t) => packageOf(t, at, environment, problems)).filter((p) => p !== undefined);
  // Packages that could not be read would make edges to them look dangling: stop here; else report all at once.
  if (packages.length < tables.length || !Array.isArray(list))
    throw lockfileInvalid(file, 'uv lockfile', problems, HINT);
  const resolve = (from: UvPackage, deps: readonly UvDependency[]): MarkedEdge[] =>
    deps.flatMap((d) => {
      const found = packages.filter(
        (p) =>
          normalizePythonName(p.name) === d.name &&
          (d.version === undefined || p.version === d.version) &&
          (d.source === undefined || p.sourceKey === d.source),
      );
      if (found.length === 0)
        problems.push(
          `${from.where}: depends on "${d.name}"${d.version ? ` ${d.version}` : ''}, which the lockfile does not list`,
        );
      return found.map((p) => ({ to: p.purl, when: d.when }));
    });
  const root = packages.find((p) => p.member === '.');
  const members = packages.filter((p) => p.member !== undefined && p !== root);
  const installed = packages.filter((p) => p !== root);
  const marked = new Map(
    installed.map((p) => [
      p.purl,
      [...resolve(p, p.main), ...resolve(p, p.optional), ...(p.member ? resolve(p, p.dev) : [])],
    ]),
  );
  const member = (m: UvPackage): MarkedEdge => ({ to: m.purl, when: true });
  const markedStarts = root
    ? { main: resolve(root, root.main), optional: resolve(root, root.optional), dev: resolve(root, root.dev) }
    : { main: members.map(member), optional: [], dev: members.flatMap((m) => resolve(m, m.dev)) };
  if (problems.length > 0) throw lockfileInvalid(file, 'uv lockfile', problems, HINT);
  const { leftOut, edges, starts } = installedPythonGraph(
    new Map(installed.map((p) => [p.purl, p.when])),
    marked,
    markedStarts,
  );
  const scopes = propagatePythonScopes(edges, starts);
  const graphRoot: GraphRoot = root
    ? pythonRoot(root.name, root.version)
    : { name: 'uv-workspace', version: '', ref: 'pkg:generic/uv-workspace' };
  return assembleGraph({
    root: graphRoot,
    rootDependsOn: [...starts.main, ...starts.optional, ...starts.dev],
    installed: installed
      .filter((p) => !leftOut.has(p.purl))
      .map((p) => ({
        name: p.name,
        version: p.version,
        purl: p.purl,
        scope: scopes.get(p.purl) ?? 'runtime',
        hashes: p.hashes,
        dependsOn: (edges.get(p.purl) ?? []).filter((r) => r !== root?.purl),
      })),
    lockfile: { path: file, digest: sha256Digest(text) },
  });
}

function packageOf(
  t: TomlTable,
  at: (t: TomlTable, key?: string) => string,
  environment: MarkerEnvironment,
  problems: string[],
): UvPackage | undefined {
  const name = t.name;
  const version = t.version ?? ''; // a workspace member with a dynamic version has none
  const source = t.source;
  const where = `${at(t)}: package "${String(name)}"`;
  if (typeof name !== 'string' || name === '' || typeof version !== 'string' || !isTomlTable(source)) {
    problems.push(
      `${where}: needs "name", "version" (strings) and a "source" table, found ${[name, version, source].map(showToml).join(', ')}`,
    );
    return undefined;
  }
  const [kind, value] = Object.entries(source)[0] ?? [];
  if (typeof value !== 'string') {
    problems.push(
      `${at(t, 'source')}: package "${name}": "source" must be one "kind = location" pair, found ${showToml(source)}`,
    );
    return undefined;
  }
  const hashes: ComponentHash[] = [];
  const files = [t.sdist, ...(Array.isArray(t.wheels) ? t.wheels : t.wheels === undefined ? [] : [t.wheels])];
  for (const f of files.filter((x) => x !== undefined)) {
    const hash = isTomlTable(f) ? f.hash : undefined;
    if (hash === undefined && isTomlTable(f)) continue; // a local sdist or wheel uv did not hash
    const parsedHash =
      typeof hash === 'string' ? parsePythonHash(hash) : `a distribution must be a table, found ${showToml(f)}`;
    if (typeof parsedHash === 'string') problems.push(`${where}: ${parsedHash}`);
    else hashes.push(parsedHash);
  }
  const truth = (marker: TomlValue | undefined, table: TomlTable, key: string): MarkerTruth => {
    const report = (problem: string) => problems.push(`${at(table, key)}: package "${name}": ${problem}`);
    if (typeof marker === 'string') return markerTruth(marker, environment, report);
    report(`a marker must be a string, found ${showToml(marker)}`);
    return 'unknown'; // so that reading goes on to the other problems
  };
  const forks = t['resolution-markers'];
  const when =
    forks === undefined || (Array.isArray(forks) && forks.length === 0)
      ? true
      : anyMarker((Array.isArray(forks) ? forks : [forks]).map((m) => truth(m, t, 'resolution-markers')));
  const deps = (value: TomlValue | undefined, key: string): UvDependency[] => {
    if (value === undefined) return [];
    const lists = key === 'dependencies' ? [value] : isTomlTable(value) ? Object.values(value) : [value];
    const out: UvDependency[] = [];
    for (const l of lists) {
      for (const d of Array.isArray(l) ? l : [l]) {
        const dep = isTomlTable(d) ? d : undefined;
        const depSource = isTomlTable(dep?.source) ? Object.values(dep.source)[0] : undefined;
        if (typeof dep?.name !== 'string' || (dep.version !== undefined && typeof dep.version !== 'string')) {
          problems.push(
            `${at(t, key)}: package "${name}": "${key}" entries must be { name = "…" } tables, found ${showToml(d)}`,
          );
          continue;
        }
        out.push({
          name: normalizePythonName(dep.name),
          version: dep.version,
          source: typeof depSource === 'string' ? depSource : undefined,
          when: dep.marker === undefined ? true : truth(dep.marker, dep, 'marker'),
        });
      }
    }
    return out;
  };
  return {
    name,
    version,
    purl: purlOf(name, version, kind ?? '', value),
    member: kind === 'editable' || kind === 'virtual' ? value : undefined,
    sourceKey: value,
    hashes,
    when,
    main: deps(t.dependencies, 'dependencies'),
    optional: deps(t['optional-dependencies'], 'optional-dependencies'),
    dev: deps(t['dev-dependencies'], 'dev-dependencies'),
    where,
  };
}

/** PyPI's purl; another index gives `repository_url`, git `vcs_url` at the locked commit, a URL `download_url`. */
function purlOf(name: string, version: string, kind: string, location: string): string {
  switch (kind) {
    case 'registry':
      return location.replace(/\/$/, '') === PYPI
        ? pypiPurl(name, version)
        : pypiPurl(name, version, { key: 'repository_url', value: location });
    case 'git': {
      const hash = location.indexOf('#');
      const repo = location.slice(0, hash < 0 ? undefined : hash).replace(/\?.*$/, '');
      const commit = hash < 0 ? '' : `@${location.slice(hash + 1)}`;
      return pypiPurl(name, version, { key: 'vcs_url', value: `git+${repo}${commit}` });
    }
    case 'url':
      return pypiPurl(name, version, { key: 'download_url', value: location });
    default: // path, directory, editable, virtual: source in the repository
      return pypiPurl(name, version);
  }
}
