// npm package-lock.json (lockfileVersion 2 and 3) → ComponentGraph, resolving edges as Node would at run time.
import { sha256Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import { assembleGraph, type ComponentGraph, type ComponentScope, type InstalledPackage } from './graph.js';
import { integrityToHashes } from './integrity.js';
import { parseJsonText } from './json-text.js';
import { checkLockfileShape, formatPath, type NpmLockEntry, type NpmLockfile } from './npm-lockfile-schema.js';
import { followLink, isTopLocation, resolveDependency, workspaceMatcher } from './npm-resolve.js';
import { npmPurl } from './purl.js';

const REGENERATE_HINT = 'Regenerate it with `npm install --package-lock-only` (npm 7 or newer) and commit the result.';

/** Reads an npm lockfile's text into a frozen ComponentGraph; `file` names it in errors and in the graph. Pure. */
export function readNpmLockfile(text: string, file: string): ComponentGraph {
  const parsed = parseJsonText(text);
  if (!parsed.ok) {
    throw new KilnError(
      'E_LOCKFILE_INVALID',
      `${file}:${parsed.line}:${parsed.column}: not valid JSON: ${parsed.reason}`,
      {
        hint: `Fix the syntax error or restore the file from git. ${REGENERATE_HINT}`,
        details: { file, line: parsed.line, column: parsed.column },
      },
    );
  }
  rejectUnsupportedVersion(parsed.value, file);
  const { lockfile, problems } = checkLockfileShape(parsed.value);
  if (lockfile === undefined) throw invalid(file, problems);
  const { graph, problems: graphProblems } = buildGraph(lockfile, file, sha256Digest(text));
  if (graph === undefined) throw invalid(file, graphProblems);
  return graph;
}

function rejectUnsupportedVersion(value: unknown, file: string): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return; // reported by the shape check
  const { lockfileVersion, packages } = value as { lockfileVersion?: unknown; packages?: unknown };
  if (typeof lockfileVersion === 'number' && lockfileVersion > 3) {
    throw new KilnError('E_LOCKFILE_INVALID', `${file} has lockfileVersion ${lockfileVersion}; Kiln reads 2 and 3`, {
      hint: 'Upgrade Kiln, or write the lockfile in a version it reads: `npm install --lockfile-version 3`.',
      details: { file, lockfileVersion },
    });
  }
  if (lockfileVersion === 1 || packages === undefined) {
    const version = lockfileVersion === undefined ? 'no lockfileVersion' : `lockfileVersion ${String(lockfileVersion)}`;
    throw new KilnError(
      'E_LOCKFILE_INVALID',
      `${file} has ${version} and no "packages" map: npm 6 lockfiles (v1) are not read yet; Kiln reads lockfileVersion 2 and 3`,
      {
        hint: 'Upgrade the lockfile with npm 7 or newer: `npm install --lockfile-version 3` (add --package-lock-only to skip installing), then commit package-lock.json.',
        details: { file, lockfileVersion },
      },
    );
  }
}

function invalid(file: string, allProblems: readonly string[]): KilnError {
  const problems = [...new Set(allProblems)];
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return new KilnError(
    'E_LOCKFILE_INVALID',
    `${file} is not a valid npm lockfile (${count}):\n  ${problems.join('\n  ')}`,
    {
      hint: REGENERATE_HINT,
      details: { file, problems },
    },
  );
}

function buildGraph(
  lockfile: NpmLockfile,
  file: string,
  digest: ComponentGraph['lockfile']['digest'],
): { graph?: ComponentGraph; problems: string[] } {
  const problems: string[] = [];
  const rootEntry = lockfile.packages.get('') ?? {};
  const rootName = rootEntry.name ?? lockfile.name;
  if (rootName === undefined) problems.push('packages[""].name: the root project has no name');
  const rootVersion = rootEntry.version ?? lockfile.version ?? '';

  const purls = new Map<string, string>();
  for (const [location, entry] of lockfile.packages) {
    if (location !== '' && entry.link !== true)
      purls.set(location, npmPurl(packageName(location, entry), entry.version ?? ''));
  }
  const edgesFrom = (location: string, entry: NpmLockEntry): string[] => {
    const refs: string[] = [];
    for (const { name, required } of dependencyNames(entry, isTopLocation(location))) {
      const r = resolveDependency(lockfile.packages, location, name);
      if (r.kind === 'found') refs.push(purls.get(r.location) ?? '');
      else if (r.kind === 'broken-link') problems.push(brokenLink(r.link, r.target));
      else if (required) {
        problems.push(
          `${formatPath(['packages', location])}: depends on "${name}" but no node_modules/${name} is reachable from it`,
        );
      }
    }
    return refs.filter((ref) => ref !== '');
  };

  const installed: InstalledPackage[] = [];
  for (const [location, entry] of lockfile.packages) {
    if (location === '') continue;
    if (entry.link === true) {
      const r = followLink(lockfile.packages, location);
      if (r.kind === 'broken-link') problems.push(brokenLink(r.link, r.target));
      continue; // the target is its own entry
    }
    installed.push(installedPackage(location, entry, purls.get(location) ?? '', edgesFrom(location, entry), problems));
  }

  const rootDependsOn = edgesFrom('', rootEntry);
  const isWorkspace = workspaceMatcher(workspacePatterns(rootEntry));
  for (const location of purls.keys()) {
    if (isTopLocation(location) && isWorkspace(location)) rootDependsOn.push(purls.get(location) ?? '');
  }
  if (problems.length > 0 || rootName === undefined) return { problems };
  const root = { name: rootName, version: rootVersion, ref: npmPurl(rootName, rootVersion) };
  return { graph: assembleGraph({ root, rootDependsOn, installed, lockfile: { path: file, digest } }), problems };
}

function installedPackage(
  location: string,
  entry: NpmLockEntry,
  purl: string,
  dependsOn: string[],
  problems: string[],
): InstalledPackage {
  const hashes = [];
  if (entry.integrity !== undefined) {
    const result = integrityToHashes(entry.integrity);
    const where = formatPath(['packages', location, 'integrity']);
    if (result.ok) hashes.push(...result.hashes);
    else problems.push(...result.problems.map((p) => `${where}: ${p}`));
  }
  return {
    name: packageName(location, entry),
    version: entry.version ?? '',
    purl,
    scope: scopeOf(entry),
    hashes,
    license: licenseOf(entry.license),
    dependsOn,
  };
}

/** The package's real name: `name` (set for aliases and workspaces) or the folder after the last node_modules/. */
function packageName(location: string, entry: NpmLockEntry): string {
  if (entry.name !== undefined) return entry.name;
  const marker = location.lastIndexOf('node_modules/');
  return marker >= 0 ? location.slice(marker + 'node_modules/'.length) : (location.split('/').at(-1) ?? location);
}

function scopeOf(entry: NpmLockEntry): ComponentScope {
  if (entry.dev === true || entry.devOptional === true) return 'dev';
  return entry.optional === true ? 'optional' : 'runtime';
}

function licenseOf(license: unknown): string | undefined {
  if (typeof license === 'string' && license.trim() !== '') return license.trim();
  if (license !== null && typeof license === 'object' && typeof (license as { type?: unknown }).type === 'string') {
    return licenseOf((license as { type: string }).type);
  }
  return undefined;
}

/** Dependency names to resolve; `required` ones must be installed (optional and peer ones may be absent). */
function dependencyNames(entry: NpmLockEntry, withDev: boolean): { name: string; required: boolean }[] {
  const optional = new Set([
    ...Object.keys(entry.optionalDependencies ?? {}),
    ...Object.keys(entry.peerDependencies ?? {}),
  ]);
  const required = new Set([
    ...Object.keys(entry.dependencies ?? {}),
    ...(withDev ? Object.keys(entry.devDependencies ?? {}) : []),
  ]);
  const names = new Set([...required, ...optional]);
  return [...names].map((name) => ({ name, required: required.has(name) && !optional.has(name) }));
}

function workspacePatterns(root: NpmLockEntry): readonly string[] {
  const ws = root.workspaces;
  if (ws === undefined) return [];
  return Array.isArray(ws) ? ws : ws.packages;
}

function brokenLink(link: string, target: string | undefined): string {
  const to = target === undefined ? 'no "resolved" target' : `target "${target}", which has no entry of its own`;
  return `${formatPath(['packages', link])}: link has ${to}`;
}
