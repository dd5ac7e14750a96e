// Rust Cargo.lock (formats 1 to 4) → ComponentGraph: every locked crate, its checksum and resolved edges.
import { sha256Digest } from '../../../core/digest.js';
import { KilnError } from '../../../core/errors.js';
import {
  assembleGraph,
  type ComponentGraph,
  type GraphRoot,
  type InstalledPackage,
  lockfileInvalid,
} from '../../graph.js';
import {
  isTomlTable,
  parseTomlFile,
  showToml as show,
  type TomlDocument,
  type TomlTable,
  type TomlValue,
} from '../toml/toml.js';
import {
  type CargoPackageId,
  type CargoSource,
  cargoPurl,
  parseCargoPackageId,
  parseCargoSource,
  sourceWithoutPrecise,
} from './purl.js';

/** What Cargo.lock cannot say: a name for a workspace whose lockfile has several top-level members. */
export interface ReadCargoLockfileOptions {
  readonly root?: { readonly name: string; readonly version: string };
}

interface LockedCrate {
  readonly name: string;
  readonly version: string;
  readonly source: CargoSource;
  /** The `source` text without `#commit`, as dependency entries name it. */
  readonly sourceKey: string | undefined;
  readonly purl: string;
  readonly checksum: string | undefined;
  readonly dependencies: readonly string[];
  readonly replace: string | undefined;
  readonly where: string;
}

const HINT = 'Regenerate it with `cargo generate-lockfile` (or `cargo update --workspace`) and commit the result.';
const SHA256_RE = /^[0-9a-f]{64}$/;

/**
 * Reads Cargo.lock's text into a frozen ComponentGraph; `file` names it in errors and in the graph. Pure.
 * The root is the local crate (no `source`) that no other crate depends on; other local crates (workspace members,
 * path dependencies) are components without hashes. Cargo.lock does not record dev vs normal dependencies or
 * target platforms, so every crate is `runtime` and every locked crate is listed.
 */
export function readCargoLockfile(text: string, file: string, options: ReadCargoLockfileOptions = {}): ComponentGraph {
  const doc = parseTomlFile(text, file, `Fix the syntax error or restore the file from git. ${HINT}`);
  const problems: string[] = [];
  const at = (table: TomlTable, key?: string) => `${file}:${doc.line(table, key)}`;
  const version = doc.root.version;
  if (typeof version === 'number' && version > 4) {
    throw new KilnError(
      'KILN_LOCKFILE_INVALID',
      `${at(doc.root, 'version')}: Cargo.lock version ${version}; Kiln reads 1 to 4`,
      {
        hint: 'Upgrade Kiln, or have an older cargo write it: set `rust-version` in Cargo.toml and run `cargo update`.',
        details: { file, version },
      },
    );
  }
  if (version !== undefined && !(typeof version === 'number' && Number.isInteger(version) && version >= 1))
    problems.push(`${at(doc.root, 'version')}: "version" must be a whole number, found ${show(version)}`);
  const checksums = metadataChecksums(doc, at, problems);
  const crates = tables(doc.root.package, `${at(doc.root, 'package')}: "package"`, problems).map((t) =>
    crateOf(t, at, checksums, problems),
  );
  const oldRoot = doc.root.root; // early format-1 lockfiles (before 2017) kept the root crate in `[root]`
  if (isTomlTable(oldRoot)) crates.push(crateOf(oldRoot, at, checksums, problems));
  const valid = crates.filter((c) => c !== undefined);
  // Crates that could not be read would make edges to them look dangling: stop here; otherwise go on to report
  // every problem at once.
  if (valid.length < crates.length) throw lockfileInvalid(file, 'Cargo lockfile', problems, HINT);
  return buildGraph(valid, { path: file, digest: sha256Digest(text) }, options, problems, file);
}

function buildGraph(
  crates: readonly LockedCrate[],
  lockfile: { path: string; digest: ReturnType<typeof sha256Digest> },
  options: ReadCargoLockfileOptions,
  problems: string[],
  file: string,
): ComponentGraph {
  const resolve = (entry: string, from: LockedCrate): LockedCrate | undefined => {
    const id = parseCargoPackageId(entry);
    const found = id === undefined ? [] : crates.filter((c) => matches(c, id));
    if (found.length === 1) return found[0];
    const why = found.length === 0 ? 'which the lockfile does not list' : `which matches ${found.length} packages`;
    problems.push(`${from.where}: depends on "${entry}", ${why}`);
    return undefined;
  };
  const target = (c: LockedCrate, seen = new Set<LockedCrate>()): LockedCrate => {
    if (c.replace === undefined || seen.has(c)) return c; // `[replace]`: edges go to the replacement
    seen.add(c);
    const to = resolve(c.replace, c);
    return to === undefined ? c : target(to, seen);
  };
  const edges = new Map(
    crates.map((c) => [c, c.dependencies.map((d) => resolve(d, c)).filter((d) => d !== undefined)]),
  );
  const dependedOn = new Set([...edges.values()].flat());
  const roots = crates.filter((c) => c.source.kind === 'local' && !dependedOn.has(c));
  if (problems.length > 0) throw lockfileInvalid(file, 'Cargo lockfile', problems, HINT);
  const purlsOf = (list: readonly LockedCrate[]) => [...new Set(list.map((d) => target(d).purl))];
  const rootSet = new Set(roots);
  const installed = crates
    .filter((c) => !rootSet.has(c) && c.replace === undefined)
    .map(
      (c): InstalledPackage => ({
        name: c.name,
        version: c.version,
        purl: c.purl,
        scope: 'runtime',
        hashes: c.checksum === undefined ? [] : [{ alg: 'SHA-256', hex: c.checksum }],
        dependsOn: purlsOf(edges.get(c) ?? []),
      }),
    );
  const [only] = roots;
  const root: GraphRoot =
    options.root !== undefined
      ? { ...options.root, ref: cargoPurl(options.root.name, options.root.version, { kind: 'local' }) }
      : roots.length === 1 && only
        ? { name: only.name, version: only.version, ref: only.purl }
        : { name: 'cargo-workspace', version: '', ref: 'pkg:generic/cargo-workspace' };
  // Several top-level members (a virtual workspace), or a root named by the caller: the members are its direct
  // dependencies; a single root crate's own dependencies are otherwise.
  const members = roots.length === 1 && options.root === undefined ? [] : roots;
  const direct = members.length > 0 ? members.map((m) => m.purl) : purlsOf(roots.flatMap((r) => edges.get(r) ?? []));
  const memberPackages = members.map(
    (m): InstalledPackage => ({
      name: m.name,
      version: m.version,
      purl: m.purl,
      scope: 'runtime',
      hashes: [],
      dependsOn: purlsOf(edges.get(m) ?? []),
    }),
  );
  return assembleGraph({ root, rootDependsOn: direct, installed: [...installed, ...memberPackages], lockfile });
}

function matches(c: LockedCrate, id: CargoPackageId): boolean {
  if (c.name !== id.name || (id.version !== undefined && c.version !== id.version)) return false;
  if (id.source === undefined) return true;
  // Lockfiles before format 3 wrote a `branch=master` git source as the default branch (no query).
  return c.sourceKey === id.source || c.sourceKey?.replace(/\?branch=master$/, '') === id.source;
}

function crateOf(
  t: TomlTable,
  at: (table: TomlTable, key?: string) => string,
  checksums: ReadonlyMap<string, string>,
  problems: string[],
): LockedCrate | undefined {
  const name = str(t, 'name', at, problems, true);
  const version = str(t, 'version', at, problems, true);
  const label = `${at(t)}: package "${name ?? '?'} ${version ?? '?'}"`;
  const sourceText = str(t, 'source', at, problems, false);
  const source = parseCargoSource(sourceText);
  if (source === undefined)
    problems.push(`${at(t, 'source')}: "source" ${show(sourceText)} is not a registry or git source`);
  const dependencies = stringArray(t, 'dependencies', at, problems);
  const replace = str(t, 'replace', at, problems, false);
  let checksum = str(t, 'checksum', at, problems, false);
  if (checksum === undefined && name !== undefined && version !== undefined)
    checksum = checksums.get(`${name} ${version}${sourceText === undefined ? '' : ` (${sourceText})`}`);
  if (checksum === '<none>') checksum = undefined; // format 1's "no checksum" marker
  if (checksum !== undefined && !SHA256_RE.test(checksum))
    problems.push(
      `${at(t, 'checksum')}: "checksum" must be 64 lowercase hex digits (SHA-256), found ${show(checksum)}`,
    );
  for (const d of [...dependencies, ...(replace === undefined ? [] : [replace])]) {
    if (parseCargoPackageId(d) === undefined) problems.push(`${label}: "${d}" is not "name [version [(source)]]"`);
  }
  if (name === undefined || version === undefined || source === undefined) return undefined;
  return {
    name,
    version,
    source,
    sourceKey: sourceText === undefined ? undefined : sourceWithoutPrecise(sourceText),
    purl: cargoPurl(name, version, source),
    checksum,
    dependencies,
    replace,
    where: label,
  };
}

/** Format 1 kept checksums apart: `[metadata]` `"checksum name version (source)" = "hex"`. */
function metadataChecksums(
  doc: TomlDocument,
  at: (table: TomlTable, key?: string) => string,
  problems: string[],
): Map<string, string> {
  const sums = new Map<string, string>();
  const metadata = doc.root.metadata;
  if (!isTomlTable(metadata)) return sums;
  for (const [key, value] of Object.entries(metadata)) {
    if (!key.startsWith('checksum ')) continue;
    if (typeof value === 'string') sums.set(key.slice('checksum '.length), value);
    else problems.push(`${at(metadata, key)}: [metadata] "${key}" must be a string, found ${show(value)}`);
  }
  return sums;
}

function tables(value: TomlValue | undefined, what: string, problems: string[]): TomlTable[] {
  if (value === undefined) return [];
  if (Array.isArray(value) && value.every(isTomlTable)) return value as TomlTable[];
  problems.push(`${what} must be an array of tables ([[package]]), found ${show(value)}`);
  return [];
}

function str(
  t: TomlTable,
  key: string,
  at: (table: TomlTable, key?: string) => string,
  problems: string[],
  required: boolean,
): string | undefined {
  const v = t[key];
  if (typeof v === 'string' && v !== '') return v;
  if (v !== undefined || required)
    problems.push(`${at(t, v === undefined ? undefined : key)}: "${key}" must be a non-empty string, found ${show(v)}`);
  return undefined;
}

function stringArray(
  t: TomlTable,
  key: string,
  at: (table: TomlTable, key?: string) => string,
  problems: string[],
): string[] {
  const v = t[key];
  if (v === undefined) return [];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  problems.push(`${at(t, key)}: "${key}" must be an array of strings, found ${show(v)}`);
  return [];
}
