// The shape of pnpm-lock.yaml (lockfileVersion '6.0' and '9.0') that Kiln relies on, checked once at the boundary
// and brought into one form: importers by path, and one entry per dependency path with its metadata merged in.
import * as z from 'zod'; // a namespace import: `{ z }` would bundle all 64 zod locales
import { DependencyMap, formatPath, issuesToProblems } from '../npm/lockfile-schema.js';
import { type PnpmLockfileVersion, removePeersSuffix } from './dep-path.js';

const PlatformList = z.union([z.string(), z.array(z.string())]);
/** name → `{ specifier, version }`: the range package.json asks for and the reference it resolved to. */
const ImporterDependencies = z.record(
  z.string(),
  z.looseObject({ specifier: z.string().optional(), version: z.string() }),
);
const PnpmImporter = z.looseObject({
  dependencies: ImporterDependencies.optional(),
  optionalDependencies: ImporterDependencies.optional(),
  devDependencies: ImporterDependencies.optional(),
});
/** One workspace project's dependencies (the root project is '.'). */
export type PnpmImporter = z.infer<typeof PnpmImporter>;

/** What pnpm knows about a package independent of its peers: `packages` in 9.0, half of each entry in 6.0. */
const PackageMeta = z.looseObject({
  name: z.string().optional(),
  version: z.string().optional(),
  resolution: z.looseObject({ integrity: z.string().optional() }).optional(),
  os: PlatformList.optional(),
  cpu: PlatformList.optional(),
  libc: PlatformList.optional(),
  peerDependenciesMeta: z.record(z.string(), z.looseObject({ optional: z.boolean().optional() })).optional(),
});
/** How one copy of a package resolved its dependencies: `snapshots` in 9.0, the other half in 6.0. */
const Snapshot = z.looseObject({
  dependencies: DependencyMap.optional(),
  optionalDependencies: DependencyMap.optional(),
});
const V6Package = z.looseObject({ ...PackageMeta.shape, ...Snapshot.shape });

/** One installed copy of a package, keyed by its dependency path; `where`/`metaWhere` name its entries in errors. */
export type PnpmPackage = z.infer<typeof V6Package> & {
  readonly where: readonly PropertyKey[];
  readonly metaWhere: readonly PropertyKey[];
};

/** A validated lockfile in one form whatever version wrote it. */
export interface PnpmLockfile {
  readonly format: PnpmLockfileVersion;
  /** Importer path ('.', 'packages/util') → its dependencies. */
  readonly importers: ReadonlyMap<string, PnpmImporter>;
  /** Dependency path (peer suffix and all) → entry. */
  readonly packages: ReadonlyMap<string, PnpmPackage>;
}

const Head = z.looseObject({
  importers: z.record(z.string(), z.unknown()).optional(),
  packages: z.record(z.string(), z.unknown()).optional(),
  snapshots: z.record(z.string(), z.unknown()).optional(),
});

/**
 * Checks a parsed lockfile of a known `format` and reports every problem as `path: message`; the lockfile comes
 * back when its shape is sound, even with problems (a snapshot without metadata) the graph builder adds to. Entries are read from
 * their own keys and, once valid, kept as the parsed values themselves (zod rebuilds records by assignment, which
 * would turn a `__proto__` key into a prototype change; the schemas have no transforms, so nothing is lost).
 */
export function checkPnpmLockfile(
  value: Record<string, unknown>,
  format: PnpmLockfileVersion,
): { lockfile?: PnpmLockfile; problems: string[] } {
  const head = Head.safeParse(value);
  if (!head.success) return { problems: issuesToProblems(head.error.issues, []) };
  const problems: string[] = [];
  let shapeOk = true;
  const check = <T>(schema: z.ZodType<T>, entry: unknown, path: readonly PropertyKey[]): entry is T => {
    const parsed = schema.safeParse(entry);
    if (!parsed.success) problems.push(...issuesToProblems(parsed.error.issues, path));
    shapeOk &&= parsed.success;
    return parsed.success;
  };

  const importers = new Map<string, PnpmImporter>();
  const rawImporters = value.importers as Record<string, unknown> | undefined;
  // A 6.0 lockfile of a project without workspaces has no `importers`: the root's dependencies are top-level keys.
  if (rawImporters === undefined) {
    if (check(PnpmImporter, value, [])) importers.set('.', value);
  }
  for (const [path, entry] of Object.entries(rawImporters ?? {})) {
    if (check(PnpmImporter, entry, ['importers', path])) importers.set(path, entry);
  }

  const packages = new Map<string, PnpmPackage>();
  const rawPackages = (value.packages ?? {}) as Record<string, unknown>;
  if (format === '6.0') {
    for (const [key, entry] of Object.entries(rawPackages)) {
      const where = ['packages', key];
      if (check(V6Package, entry, where)) packages.set(key, { ...entry, where, metaWhere: where });
    }
  } else {
    const meta = new Map<string, z.infer<typeof PackageMeta>>();
    for (const [key, entry] of Object.entries(rawPackages)) {
      if (check(PackageMeta, entry, ['packages', key])) meta.set(key, entry);
    }
    for (const [key, entry] of Object.entries((value.snapshots ?? {}) as Record<string, unknown>)) {
      const where = ['snapshots', key];
      if (!check(Snapshot, entry, where)) continue;
      const id = removePeersSuffix(key);
      const m = meta.get(id);
      if (m === undefined) problems.push(`${formatPath(where)}: has no ${formatPath(['packages', id])} entry`);
      packages.set(key, { ...m, ...entry, where, metaWhere: ['packages', id] }); // kept: edges to it are not dangling
    }
  }
  return shapeOk ? { lockfile: { format, importers, packages }, problems } : { problems };
}
