// The shape of package-lock.json (v2/v3 `packages` map) that Kiln relies on, checked once at the boundary.
import * as z from 'zod'; // a namespace import: `{ z }` would bundle all 64 zod locales

/** name → version range, as package.json and lockfiles write dependencies (and v1 `requires`). */
export const DependencyMap = z.record(z.string(), z.string());
/** package.json `os`/`cpu`/`libc`: a list (npm also accepts a lone string), entries may be `!negated`. */
const PlatformList = z.union([z.string(), z.array(z.string())]);

/** One `packages` entry: an installed folder (`node_modules/…`), a workspace folder, or a link to one. */
export const NpmLockEntry = z.looseObject({
  name: z.string().optional(),
  version: z.string().optional(),
  resolved: z.string().optional(),
  integrity: z.string().optional(),
  link: z.boolean().optional(),
  dev: z.boolean().optional(),
  optional: z.boolean().optional(),
  devOptional: z.boolean().optional(),
  peer: z.boolean().optional(),
  /** Kept loose: old packages declare `{ type, url }` objects or arrays; unreadable ones are simply left out. */
  license: z.unknown().optional(),
  dependencies: DependencyMap.optional(),
  optionalDependencies: DependencyMap.optional(),
  peerDependencies: DependencyMap.optional(),
  devDependencies: DependencyMap.optional(),
  peerDependenciesMeta: z.record(z.string(), z.looseObject({ optional: z.boolean().optional() })).optional(),
  os: PlatformList.optional(),
  cpu: PlatformList.optional(),
  libc: PlatformList.optional(),
  workspaces: z.union([z.array(z.string()), z.looseObject({ packages: z.array(z.string()) })]).optional(),
});

/** A validated `packages` entry. */
export type NpmLockEntry = z.infer<typeof NpmLockEntry>;

const NpmLockfileHead = z.looseObject({
  name: z.string().optional(),
  version: z.string().optional(),
  lockfileVersion: z.union([z.literal(2), z.literal(3)], {
    error: 'expected 1, 2 or 3 (the versions npm 5 and newer write)',
  }),
  packages: z.record(z.string(), z.unknown()),
});

/** A validated v2/v3 lockfile: its header and its `packages` entries by location (`''` is the root). */
export interface NpmLockfile {
  readonly name: string | undefined;
  readonly version: string | undefined;
  readonly packages: ReadonlyMap<string, NpmLockEntry>;
}

/**
 * Checks `value` (fresh from JSON.parse) against the lockfile shape and reports every problem as `path: message`.
 * Entries are read from its own keys, so odd keys such as `__proto__` are kept and checked like any other.
 */
export function checkLockfileShape(value: unknown): { lockfile?: NpmLockfile; problems: string[] } {
  // What surely passes is not handed to zod, which copies every object it checks: with 100k entries that was a
  // third of reading the lockfile. The rest goes through zod, whose report is the one users see.
  const head = isPlainHead(value) ? { success: true as const, data: value } : NpmLockfileHead.safeParse(value);
  if (!head.success) return { problems: issuesToProblems(head.error.issues, []) };
  const raw = (value as { packages: Record<string, unknown> }).packages;
  const packages = new Map<string, NpmLockEntry>();
  const problems: string[] = [];
  for (const [location, entry] of Object.entries(raw)) {
    const parsed = isPlainEntry(entry) ? { success: true as const } : NpmLockEntry.safeParse(entry);
    // Keep the JSON.parse value itself once it passed: zod rebuilds records by assignment, which turns a
    // `__proto__` dependency name into a prototype change. The schema has no transforms, so nothing is lost.
    if (parsed.success) packages.set(location, entry as NpmLockEntry);
    else problems.push(...issuesToProblems(parsed.error.issues, ['packages', location]));
  }
  if (problems.length > 0) return { problems };
  return { lockfile: { name: head.data.name, version: head.data.version, packages }, problems };
}

// The checks below accept a subset of what the schemas above accept (JSON values only, as JSON.parse returns them),
// never more: anything else, valid or not, is left to zod. Keep them in step with the schemas.

function isPlainHead(value: unknown): value is z.infer<typeof NpmLockfileHead> {
  return (
    isJsonObject(value) &&
    isOptional(value.name, isString) &&
    isOptional(value.version, isString) &&
    (value.lockfileVersion === 2 || value.lockfileVersion === 3) &&
    isJsonObject(value.packages)
  );
}

function isPlainEntry(entry: unknown): boolean {
  return (
    isJsonObject(entry) &&
    ['name', 'version', 'resolved', 'integrity'].every((key) => isOptional(entry[key], isString)) &&
    ['link', 'dev', 'optional', 'devOptional', 'peer'].every((key) => isOptional(entry[key], isBoolean)) &&
    ['dependencies', 'optionalDependencies', 'peerDependencies', 'devDependencies'].every((key) =>
      isOptional(entry[key], isStringRecord),
    ) &&
    isOptional(entry.peerDependenciesMeta, isPeerMeta) &&
    ['os', 'cpu', 'libc'].every((key) => isOptional(entry[key], isPlatformList)) &&
    isOptional(entry.workspaces, (w) => isStringArray(w) || (isJsonObject(w) && isStringArray(w.packages)))
  );
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}

function isOptional(value: unknown, check: (v: unknown) => boolean): boolean {
  return value === undefined || check(value);
}

function isString(value: unknown): boolean {
  return typeof value === 'string';
}

function isBoolean(value: unknown): boolean {
  return typeof value === 'boolean';
}

function isStringArray(value: unknown): boolean {
  return Array.isArray(value) && value.every(isString);
}

function isPlatformList(value: unknown): boolean {
  return isString(value) || isStringArray(value);
}

function isStringRecord(value: unknown): boolean {
  if (!isJsonObject(value)) return false;
  for (const key in value) if (typeof value[key] !== 'string') return false;
  return true;
}

function isPeerMeta(value: unknown): boolean {
  if (!isJsonObject(value)) return false;
  for (const key in value) {
    const meta = value[key];
    if (!isJsonObject(meta) || !isOptional(meta.optional, isBoolean)) return false;
  }
  return true;
}

/** Zod issues as `path: message` lines, each path prefixed with where the checked value sits in the file. */
export function issuesToProblems(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[]): string[] {
  return issues.map((issue) => `${formatPath([...prefix, ...issue.path])}: ${issue.message}`);
}

/** `packages["node_modules/a"].version`: a dot-path that survives keys containing slashes and dots. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === '' ? '(top level)' : out;
}
