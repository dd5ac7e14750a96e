// yarn classic (v1) yarn.lock → YarnLock: one entry per `"name@range", name@range2:` block.
import type { ComponentHash } from '../../graph.js';
import { integrityToHashes } from '../integrity.js';
import { formatPath } from '../npm/lockfile-schema.js';
import { type ClassicField, parseClassicSyntax } from './classic-syntax.js';
import { realName } from './descriptor.js';
import type { YarnDependency, YarnEntry, YarnLock } from './graph.js';
import type { YarnManifest } from './manifest.js';

const SHA1_FRAGMENT_RE = /#([0-9a-f]{40})$/;

/** Parses and checks a classic lockfile, reporting every problem as `line N: path: why`. */
export function readClassicLock(text: string, manifest: YarnManifest): { lock?: YarnLock; problems: string[] } {
  const { fields, problems } = parseClassicSyntax(text);
  if (problems.length > 0) return { problems };
  const entries = fields.map((field) => entryOf(field, problems)).filter((e) => e !== undefined);
  if (problems.length > 0) return { problems };
  const rootDependencies = manifest.dependencies.map(
    ({ name, range, kind, where }): YarnDependency => ({ name, descriptors: [`${name}@${range}`], kind, where }),
  );
  const unrecorded = unrecordedEntries(entries, rootDependencies, manifest.workspaces);
  // yarn 1 records the effect of `resolutions` in its keys (`ms@2.1.2, ms@^2.1.3`): nothing more to apply.
  const lock: YarnLock = {
    format: 'classic',
    entries: [...entries, ...unrecorded],
    rootDependencies,
    unreached: 'runtime',
    descriptorsOf: (_dependent, name, range) => [`${name}@${range}`],
    unread: [],
  };
  return { lock, problems };
}

/**
 * Yarn 1 records neither `link:` dependencies nor workspaces: they are folders, whose package.json is not at hand.
 * Each becomes an entry of unknown version ('') without dependencies, as npm would list the folder: a `link:` range
 * anywhere, and (when package.json declares workspaces) a dependency of the root that matches no entry.
 */
function unrecordedEntries(
  entries: readonly YarnEntry[],
  rootDependencies: readonly YarnDependency[],
  workspaces: boolean,
): YarnEntry[] {
  const keys = new Set(entries.flatMap((e) => e.descriptors));
  const found = new Map<string, YarnEntry>();
  const add = (dep: YarnDependency, workspace: boolean) => {
    const [descriptor = ''] = dep.descriptors;
    const isLink = descriptor.startsWith(`${dep.name}@link:`);
    if (keys.has(descriptor) || found.has(descriptor) || !(isLink || workspace)) return;
    const entry = { name: dep.name, version: '', hashes: [], dependencies: [], peers: [], workspace: !isLink };
    found.set(descriptor, { ...entry, descriptors: [descriptor], where: dep.where });
  };
  for (const dep of rootDependencies) add(dep, workspaces);
  for (const dep of entries.flatMap((e) => e.dependencies)) add(dep, false);
  return [...found.values()];
}

function entryOf(field: ClassicField, problems: string[]): YarnEntry | undefined {
  const path = [field.keys.join(', ')];
  const where = `line ${field.line}: ${formatPath(path)}`;
  if (field.value.kind !== 'block') return void problems.push(`${where}: expected a block of fields, found a value`);
  const names = new Set(field.keys.map((key) => realName(key)));
  const [name] = names;
  if (name === undefined || names.has(undefined)) {
    const bad = field.keys.find((key) => realName(key) === undefined);
    return void problems.push(`${where}: "${bad}" is not a name@range descriptor`);
  }
  if (names.size > 1) return void problems.push(`${where}: keys name different packages (${[...names].join(', ')})`);
  const own = fieldsByKey(field.value.fields, path, problems);
  const version = stringField(own, 'version', path, problems);
  if (version === undefined && !own.has('version')) problems.push(`${where}: has no "version"`);
  return {
    descriptors: field.keys,
    name,
    version: version ?? '',
    hashes: hashesOf(own, path, problems),
    dependencies: [
      ...dependenciesOf(own, 'dependencies', 'prod', path, problems),
      ...dependenciesOf(own, 'optionalDependencies', 'optional', path, problems),
    ],
    peers: [], // classic does not record peer dependencies
    workspace: false,
    where,
  };
}

/** `integrity` (SRI); failing that, the sha1 yarn appends to a registry `resolved` URL (lockfiles before yarn 1.10). */
function hashesOf(own: ReadonlyMap<string, ClassicField>, path: string[], problems: string[]): ComponentHash[] {
  const integrity = stringField(own, 'integrity', path, problems);
  if (integrity !== undefined) {
    const result = integrityToHashes(integrity);
    if (result.ok) return result.hashes;
    const at = `line ${own.get('integrity')?.line}: ${formatPath([...path, 'integrity'])}`;
    problems.push(...result.problems.map((p) => `${at}: ${p}`));
    return [];
  }
  const sha1 = SHA1_FRAGMENT_RE.exec(stringField(own, 'resolved', path, problems) ?? '')?.[1];
  return sha1 === undefined ? [] : [{ alg: 'SHA-1', hex: sha1 }];
}

function dependenciesOf(
  own: ReadonlyMap<string, ClassicField>,
  section: 'dependencies' | 'optionalDependencies',
  kind: 'prod' | 'optional',
  path: string[],
  problems: string[],
): YarnDependency[] {
  const field = own.get(section);
  if (field === undefined) return [];
  const at = [...path, section];
  if (field.value.kind !== 'block') {
    problems.push(wrongKind(field, at, 'a block'));
    return [];
  }
  const deps: YarnDependency[] = [];
  for (const [name, dep] of fieldsByKey(field.value.fields, at, problems)) {
    const where = `line ${dep.line}: ${formatPath([...at, name])}`;
    if (dep.value.kind === 'string') deps.push({ name, descriptors: [`${name}@${dep.value.text}`], kind, where });
    else problems.push(wrongKind(dep, [...at, name], 'a version range'));
  }
  return deps;
}

/** A block's fields by key; a key given twice is a problem (yarn would silently keep the last). */
function fieldsByKey(fields: readonly ClassicField[], path: string[], problems: string[]): Map<string, ClassicField> {
  const byKey = new Map<string, ClassicField>();
  for (const field of fields) {
    for (const key of field.keys) {
      const first = byKey.get(key);
      if (first === undefined) byKey.set(key, field);
      else
        problems.push(
          `line ${field.line}: ${formatPath([...path, key])}: is given twice (first on line ${first.line})`,
        );
    }
  }
  return byKey;
}

function stringField(
  own: ReadonlyMap<string, ClassicField>,
  key: string,
  path: string[],
  problems: string[],
): string | undefined {
  const field = own.get(key);
  if (field === undefined) return undefined;
  if (field.value.kind === 'string') return field.value.text;
  problems.push(wrongKind(field, [...path, key], 'a string'));
  return undefined;
}

function wrongKind(field: ClassicField, path: readonly string[], expected: string): string {
  const found = field.value.kind === 'block' ? 'a block' : 'a value';
  return `line ${field.line}: ${formatPath(path)}: expected ${expected}, found ${found}`;
}
