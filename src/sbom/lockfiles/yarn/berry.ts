// yarn berry (v2+) yarn.lock → YarnLock: a YAML map of `"name@npm:range, …"` keys to resolved packages.
import { isMap, isScalar, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { formatPath } from '../npm/lockfile-schema.js';
import { splitDescriptor, splitKeyList } from './descriptor.js';
import type { YarnDependency, YarnEntry, YarnLock } from './graph.js';
import type { YarnManifest, YarnResolution } from './manifest.js';

/** What berry writes as the version of workspaces and `link:`/`portal:` folders: it does not know theirs. */
const UNKNOWN_VERSION = '0.0.0-use.local';
const PROTOCOL_RE = /^[a-z][a-z0-9+.-]*:/i;

interface Field {
  readonly node: unknown;
  /** The line of its key. */
  readonly line: number;
}

/** Where problems go, and how a node's offset becomes a line number. */
interface Ctx {
  readonly lineOf: (offset: number | undefined) => number;
  readonly problems: string[];
}

/**
 * Parses and checks a berry lockfile, reporting every problem as `line N: path: why`. Every scalar is read as a
 * string (YAML's failsafe schema), so `version: 1.10` stays "1.10". `checksum` is not read: it is yarn's sha512 of
 * the zip archive in its own cache (the cacheKey says how it was compressed), not of the tarball the registry serves,
 * so recorded as a SHA-512 component hash it would contradict npm's integrity for the very same package.
 */
export function readBerryLock(text: string, manifest: YarnManifest): { lock?: YarnLock; problems: string[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, schema: 'failsafe', uniqueKeys: true });
  const problems = doc.errors.map((e) => {
    const reason = e.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? e.message;
    return `line ${e.linePos?.[0].line ?? 1}: not valid YAML: ${reason}`;
  });
  if (problems.length > 0) return { problems };
  const ctx: Ctx = { lineOf: (offset) => lineCounter.linePos(offset ?? 0).line, problems };
  const top = doc.contents === null ? new Map<string, Field>() : fields({ node: doc.contents, line: 1 }, [], ctx);
  const entries: YarnEntry[] = [];
  let root: { resolution: string; ranges: ReadonlyMap<string, string> } | undefined;
  const rules = manifest.resolutions.rules;
  for (const [key, field] of top) {
    if (key === '__metadata') continue;
    const entry = entryOf(key, field, ctx, rules);
    if (entry?.root === true) root = entry;
    else if (entry !== undefined) entries.push(entry.entry);
  }
  if (!top.has('__metadata')) problems.push('line 1: has no __metadata block: not a yarn berry lockfile');
  if (problems.length > 0) return { problems };
  // A workspace's dependencies as its lockfile entry spells them (berry normalizes them; package.json says which are
  // dev): the root's from its own entry (`workspace:.`), the other workspaces' from theirs.
  const descriptorsOf = (dependent: { name: string; dir: string }, name: string, range: string) => {
    const entry = entries.find((e) => e.workspaceDir === dependent.dir);
    const ranges = dependent.dir === '.' ? root?.ranges : entry?.lockedRanges;
    const resolution = dependent.dir === '.' ? root?.resolution : entry && `${entry.name}@workspace:${dependent.dir}`;
    const parent = { name: dependent.name, descriptors: entry?.descriptors ?? [] };
    return resolvedCandidates(rules, parent, name, ranges?.get(name) ?? range, resolution);
  };
  const rootProject = { name: manifest.name ?? '', dir: '.' };
  const rootDependencies = manifest.dependencies.map(
    ({ name, range, kind, where }): YarnDependency => ({
      name,
      descriptors: descriptorsOf(rootProject, name, range),
      kind,
      where,
    }),
  );
  const unread = manifest.resolutions.unread.map((where) => `${where}: a resolution path deeper than parent/name`);
  return { lock: { format: 'berry', entries, rootDependencies, unreached: 'omit', descriptorsOf, unread }, problems };
}

/**
 * The keys a dependency is filed under once `resolutions` apply (yarn keys the entry by the resolved descriptor and
 * leaves the dependent's own range in its `dependencies`), then those of the range as written.
 */
function resolvedCandidates(
  rules: readonly YarnResolution[],
  dependent: { name: string; descriptors: readonly string[] },
  name: string,
  range: string,
  resolution: string | undefined,
): string[] {
  const rule = rules.find((r) => appliesTo(r, dependent, name, range));
  const own = candidates(name, range, resolution);
  return rule === undefined ? own : [...candidates(name, rule.to, resolution), ...own];
}

/** Whether `rule` resolves `name@range` as a dependency of `dependent` (which `parent` may name, with a range). */
function appliesTo(
  rule: YarnResolution,
  dependent: { name: string; descriptors: readonly string[] },
  name: string,
  range: string,
): boolean {
  const { target, parent } = rule;
  if (target.name !== name || (target.range !== undefined && !sameRange(target.range, range))) return false;
  if (parent === undefined) return true;
  if (parent.name !== dependent.name) return false;
  return (
    parent.range === undefined || dependent.descriptors.some((d) => sameRange(`${parent.name}@${parent.range}`, d))
  );
}

/** Berry writes registry ranges with its default `npm:` protocol; package.json and resolutions may leave it out. */
function sameRange(a: string, b: string): boolean {
  const npm = (r: string) => r.replace(/^((?:@[^/]+\/)?[^@]+@)?npm:/, '$1');
  return npm(a) === npm(b);
}

type Read = { root: true; resolution: string; ranges: ReadonlyMap<string, string> } | { root: false; entry: YarnEntry };

function entryOf(key: string, field: Field, ctx: Ctx, rules: readonly YarnResolution[]): Read | undefined {
  const { problems } = ctx;
  const path = [key];
  const where = `line ${field.line}: ${formatPath(path)}`;
  if (!isMap(field.node)) return void fields(field, path, ctx); // reports it
  const own = fields(field, path, ctx);
  const version = str(own, 'version', path, problems);
  const resolution = str(own, 'resolution', path, problems);
  if (version === undefined && !own.has('version')) problems.push(`${where}: has no "version"`);
  if (resolution === undefined && !own.has('resolution')) problems.push(`${where}: has no "resolution"`);
  const locator = resolution === undefined ? undefined : splitDescriptor(resolution);
  if (resolution !== undefined && locator === undefined) {
    problems.push(`${where}.resolution: "${resolution}" is not a name@reference locator`);
  }
  const meta = (section: string) => optionalNames(own.get(section), [...path, section], ctx);
  const optional = meta('dependenciesMeta');
  const ranges = stringMap(own.get('dependencies'), [...path, 'dependencies'], ctx);
  if (resolution !== undefined && locator?.range === 'workspace:.') {
    return { root: true, resolution, ranges: new Map([...ranges].map(([n, r]) => [n, r.range])) };
  }
  const peerOptional = meta('peerDependenciesMeta');
  const peers = stringMap(own.get('peerDependencies'), [...path, 'peerDependencies'], ctx);
  if (version === undefined || locator === undefined) return undefined;
  const descriptors = splitKeyList(key);
  const dependent = { name: locator.name, descriptors };
  const dependencies = [...ranges].map(
    ([name, { range, where }]): YarnDependency => ({
      name,
      descriptors: resolvedCandidates(rules, dependent, name, range, resolution),
      kind: optional.has(name) ? 'optional' : 'prod',
      where,
    }),
  );
  const workspaceDir = locator.range.startsWith('workspace:') ? locator.range.slice('workspace:'.length) : undefined;
  const entry: YarnEntry = {
    descriptors,
    name: locator.name,
    version: version === UNKNOWN_VERSION ? '' : version,
    hashes: [],
    dependencies,
    peers: [...peers.keys()].map((name) => ({ name, optional: peerOptional.has(name) })),
    workspace: workspaceDir !== undefined,
    ...(workspaceDir === undefined
      ? {}
      : { workspaceDir, lockedRanges: new Map([...ranges].map(([n, r]) => [n, r.range])) }),
    where,
  };
  return { root: false, entry };
}

/**
 * The keys a dependency may be filed under: as written; bound to its dependent (berry keys a relative `file:`,
 * `link:` or `portal:` range as `range::locator=<dependent, URL-encoded>`); with berry's default `npm:` protocol,
 * which older lockfiles leave out of entries' dependencies.
 */
function candidates(name: string, range: string, dependent: string | undefined): string[] {
  const out = [`${name}@${range}`];
  if (dependent !== undefined) {
    out.push(`${name}@${range}${range.includes('::') ? '&' : '::'}locator=${encodeURIComponent(dependent)}`);
  }
  if (!PROTOCOL_RE.test(range)) out.push(`${name}@npm:${range}`);
  return out;
}

/** A map node's entries by (string) key with the line each key is on; anything else is a problem. */
function fields(field: Field, path: readonly string[], ctx: Ctx): Map<string, Field> {
  const out = new Map<string, Field>();
  const { node } = field;
  if (!isMap(node)) {
    ctx.problems.push(`line ${field.line}: ${formatPath(path)}: expected a map, found ${describe(node)}`);
    return out;
  }
  for (const pair of node.items) {
    const line = ctx.lineOf((pair.key as YamlNode | null)?.range?.[0]);
    if (!isScalar(pair.key) || typeof pair.key.value !== 'string') {
      ctx.problems.push(`line ${line}: ${formatPath(path)}: has a key that is not a string`);
    } else out.set(pair.key.value, { node: pair.value, line });
  }
  return out;
}

/** `dependencies`/`peerDependencies`: name → range, each with where it is written. */
function stringMap(field: Field | undefined, path: readonly string[], ctx: Ctx): Map<string, Range> {
  const out = new Map<string, Range>();
  if (field === undefined) return out;
  for (const [name, { node, line }] of fields(field, path, ctx)) {
    const where = `line ${line}: ${formatPath([...path, name])}`;
    if (isScalar(node) && typeof node.value === 'string') out.set(name, { range: node.value, where });
    else ctx.problems.push(`${where}: expected a version range, found ${describe(node)}`);
  }
  return out;
}

interface Range {
  readonly range: string;
  readonly where: string;
}

/** The names a `dependenciesMeta`/`peerDependenciesMeta` map marks `optional: true`. */
function optionalNames(field: Field | undefined, path: readonly string[], ctx: Ctx): Set<string> {
  const names = new Set<string>();
  if (field === undefined) return names;
  for (const [name, meta] of fields(field, path, ctx)) {
    const optional = fields(meta, [...path, name], ctx).get('optional')?.node;
    if (isScalar(optional) && optional.value === 'true') names.add(name);
  }
  return names;
}

function str(
  own: ReadonlyMap<string, Field>,
  key: string,
  path: readonly string[],
  problems: string[],
): string | undefined {
  const field = own.get(key);
  if (field === undefined) return undefined;
  if (isScalar(field.node) && typeof field.node.value === 'string') return field.node.value;
  problems.push(`line ${field.line}: ${formatPath([...path, key])}: expected a string, found ${describe(field.node)}`);
  return undefined;
}

function describe(node: unknown): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a map';
  if (isScalar(node)) return node.value === '' ? 'nothing' : 'a string';
  return 'a list or alias';
}
