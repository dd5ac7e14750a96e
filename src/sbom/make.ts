// The SBOM for a build: from the committed package-lock.json when there is one, else a document with no dependencies.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { LocalCas } from '../cache/index.js';
import { type Digest, isDigest, sha256Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import { canonicalJson, deepFreeze } from '../core/json.js';
import type { SourceView } from '../plan/source-view.js';
import { pathExists, writeFileAtomic } from '../platform/fsutil.js';
import type { SourceRef } from '../source/index.js';
import {
  type BuildTool,
  type ComponentGraph,
  type CycloneDxMeta,
  cycloneDxDocument,
  hostNpmPlatform,
  mergeGraphs,
  type NpmPlatform,
  readCargoLockfile,
  readGoModules,
  readNpmLockfile,
  readPnpmLockfile,
  readPoetryLockfile,
  readRequirementsTxt,
  readUvLockfile,
  readYarnLockfile,
  requirementIncludes,
  serializeBom,
  serializeSpdx,
  spdxDocument,
  validateCycloneDx,
  validateSpdx,
} from './index.js';
import { pythonEnvironment } from './lockfiles/python/markers.js';

/** An SBOM ready to attest and publish. */
export interface BuildSbom {
  /** The CycloneDX 1.6 document and its bytes. */
  readonly bytes: Buffer;
  readonly bom: unknown;
  /** The same components as an SPDX 2.3 document. */
  readonly spdx: { readonly doc: unknown; readonly bytes: Buffer };
  /** The lockfiles it was read from (paths relative to the project); empty when there is none. */
  readonly lockfiles: readonly { readonly path: string; readonly digest: Digest }[];
  /** Lockfiles found but not read, or none found: said as warnings, never a silently empty SBOM. */
  readonly warnings: readonly string[];
}

/** The SBOM of the lockfiles as committed, which can be made again once the steps installed the packages. */
export interface LockfileSbom extends BuildSbom {
  /**
   * The same SBOM with `licenses` (purl → license) given to the npm components the lockfiles left without one (never
   * replacing one they gave); validated like the first. The same SBOM and licenses give the same bytes; when no
   * component gets a license, this SBOM itself.
   */
  withLicenses(licenses: ReadonlyMap<string, string>): Promise<BuildSbom>;
}

/** A content-addressed memo of SBOMs (the local cache). */
export interface SbomMemo {
  get(key: Digest): Promise<Buffer | undefined>;
  put(key: Digest, bytes: Buffer): Promise<void>;
}

/** An SbomMemo over the local CAS (written to `writable`): an index file per key naming the SBOM blob, verified on every read. */
export function casSbomMemo(cas: LocalCas, writable: LocalCas = cas): SbomMemo {
  const indexPath = (store: LocalCas, key: Digest) => join(store.dir, 'sbom', key.slice(7));
  const getFrom = async (store: LocalCas, key: Digest) => {
    const digest = (await fsp.readFile(indexPath(store, key), 'utf8').catch(() => '')).trim();
    return isDigest(digest) ? store.getBlob(digest) : undefined;
  };
  return {
    async get(key) {
      return (await getFrom(cas, key)) ?? (writable === cas ? undefined : getFrom(writable, key));
    },
    async put(key, bytes) {
      const digest = sha256Digest(bytes);
      await writable.putBlob(digest, bytes);
      await writeFileAtomic(indexPath(writable, key), digest);
    },
  };
}

/** A lockfile Kiln reads: where it is (relative to the project) and how it becomes a component graph. */
interface LockfileReader {
  readonly path: string;
  /** Other project files it needs, given a file's text and path (go.mod beside go.sum, `-r` includes): read if present. */
  readonly companions?: (text: string, path: string) => readonly string[];
  read(text: string, path: string, ctx: ReadContext): ComponentGraph;
}

/** What a reader may need besides the lockfile: the platform (optional packages) and the project's package.json. */
interface ReadContext {
  readonly platform: NpmPlatform;
  readonly manifest: { readonly text: string; readonly file: string } | undefined;
  /** The companion files that were found, by path relative to the project. */
  readonly companions: ReadonlyMap<string, string>;
}

/** A companion file as the readers take it, when it was found. */
function companion(ctx: ReadContext, file: string): { text: string; file: string } | undefined {
  const text = ctx.companions.get(file);
  return text === undefined ? undefined : { text, file };
}

/** The lockfiles Kiln reads; when several are found, their graphs are merged into one SBOM. */
const LOCKFILE_READERS: readonly LockfileReader[] = [
  {
    path: 'package-lock.json',
    read: (text, path, ctx) =>
      readNpmLockfile(text, path, { platform: ctx.platform, ...(ctx.manifest ? { manifest: ctx.manifest } : {}) }),
  },
  {
    path: 'pnpm-lock.yaml',
    // pnpm-lock.yaml does not record the project's name and version: package.json does.
    read: (text, path, ctx) => {
      const project = projectOf(ctx.manifest);
      return readPnpmLockfile(text, path, {
        platform: ctx.platform,
        ...(project ? { projects: { '.': project } } : {}),
      });
    },
  },
  {
    path: 'yarn.lock',
    // yarn.lock does not say which packages are the project's own, nor dev vs runtime: package.json does.
    read: (text, path, ctx) => {
      if (!ctx.manifest) {
        throw new KilnError(
          'E_LOCKFILE_INVALID',
          `${path} needs the project's package.json beside it, and there is none`,
          {
            hint: 'commit package.json with yarn.lock',
          },
        );
      }
      return readYarnLockfile(text, path, ctx.manifest);
    },
  },
  { path: 'Cargo.lock', read: (text, path) => readCargoLockfile(text, path) },
  {
    path: 'go.sum',
    // go.sum lists the modules; go.mod says which are direct and what is replaced or excluded.
    companions: () => ['go.mod'],
    read: (text, path, ctx) => {
      const goMod = companion(ctx, 'go.mod');
      if (!goMod) {
        throw new KilnError('E_LOCKFILE_INVALID', `${path} needs the module's go.mod beside it, and there is none`, {
          hint: 'commit go.mod with go.sum',
        });
      }
      return readGoModules(text, path, goMod);
    },
  },
  {
    path: 'poetry.lock',
    // poetry.lock does not record the project's name nor its direct dependencies: pyproject.toml does.
    companions: () => ['pyproject.toml'],
    read: (text, path, ctx) => {
      const pyproject = companion(ctx, 'pyproject.toml');
      return readPoetryLockfile(text, path, {
        environment: pythonEnvironment(ctx.platform),
        ...(pyproject ? { pyproject } : {}),
      });
    },
  },
  {
    path: 'uv.lock',
    read: (text, path, ctx) => readUvLockfile(text, path, { environment: pythonEnvironment(ctx.platform) }),
  },
  {
    path: 'requirements.txt',
    companions: (text, path) => (path.endsWith('.toml') ? [] : [...requirementIncludes(text, path), 'pyproject.toml']),
    read: (text, path, ctx) => {
      const pyproject = companion(ctx, 'pyproject.toml');
      const environment = pythonEnvironment(ctx.platform); // packages for another platform are not installed
      return readRequirementsTxt(text, path, {
        files: ctx.companions,
        environment,
        ...(pyproject ? { pyproject } : {}),
      });
    },
  },
];

/** Reads every companion the present lockfiles need (and those the companions need in turn), by project path. */
async function readCompanions(
  present: readonly { reader: LockfileReader; bytes: Buffer }[],
  read: (path: string) => Promise<Buffer | undefined>,
): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  const asked = new Set<string>();
  let wanted = present.flatMap((p) =>
    (p.reader.companions?.(p.bytes.toString('utf8'), p.reader.path) ?? []).map((path) => ({ path, reader: p.reader })),
  );
  while (wanted.length > 0 && asked.size < 100) {
    const next = wanted.filter((w) => !asked.has(w.path));
    for (const w of next) asked.add(w.path);
    const bytes = await Promise.all(next.map((w) => (w.path.startsWith('../') ? undefined : read(w.path))));
    wanted = next.flatMap((w, i) => {
      const b = bytes[i];
      if (b === undefined) return [];
      found.set(w.path, b);
      return (w.reader.companions?.(b.toString('utf8'), w.path) ?? []).map((path) => ({ path, reader: w.reader }));
    });
  }
  return found;
}

/** Name and version from package.json, when it has both. */
function projectOf(manifest: ReadContext['manifest']): { name: string; version: string } | undefined {
  try {
    const { name, version } = JSON.parse(manifest?.text ?? '') as { name?: unknown; version?: unknown };
    return typeof name === 'string' && typeof version === 'string' ? { name, version } : undefined;
  } catch {
    return undefined;
  }
}

/** Lockfiles of formats Kiln does not read yet: one found is named in a warning, never silently left out. */
const UNREAD_LOCKFILES = ['npm-shrinkwrap.json', 'bun.lockb', 'Pipfile.lock', 'Gemfile.lock', 'composer.lock'];

/** Builds and validates the CycloneDX and SPDX SBOMs of the project as committed. */
export async function makeSbom(input: {
  /** Where the project's files are read (a commit's tree in a build; the working tree for `kiln sbom`). */
  view: Pick<SourceView, 'readFile' | 'projectDir'>;
  source: Pick<SourceRef, 'commit' | 'sourceDateEpoch' | 'subdir'>;
  config: { name: string };
  kilnVersion: string;
  /** What builds the artifact (the builder's tools, Kiln's builder): listed in both SBOMs as build-time. */
  buildTools?: readonly BuildTool[] | undefined;
  /** Remembers SBOM bytes by the digest of everything they are made from. */
  memo?: SbomMemo | undefined;
}): Promise<LockfileSbom> {
  const meta = {
    commit: input.source.commit,
    sourceDateEpoch: input.source.sourceDateEpoch,
    toolName: 'kiln',
    toolVersion: input.kilnVersion,
    buildTools: [...(input.buildTools ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
  const read = (path: string) => input.view.readFile(join(input.view.projectDir, path)).catch(() => undefined);
  const [found, unread] = await Promise.all([
    Promise.all(LOCKFILE_READERS.map(async (reader) => ({ reader, bytes: await read(reader.path) }))),
    Promise.all(UNREAD_LOCKFILES.map(async (path) => ((await read(path)) ? path : undefined))),
  ]);
  const present = found.flatMap((f) => (f.bytes ? [{ reader: f.reader, bytes: f.bytes }] : []));
  const warnings = unread
    .filter((p): p is string => p !== undefined)
    .map((p) => `${p} is not read yet: the packages it lists are not in the SBOM`);
  if (present.length === 0) {
    warnings.push(`no lockfile Kiln reads in ${input.source.subdir || 'the project'}: the SBOM lists no dependencies`);
    const empty: ComponentGraph = {
      root: { name: input.config.name, version: '0.0.0', ref: `pkg:generic/${encodeURIComponent(input.config.name)}` },
      components: [],
      lockfile: { path: '', digest: sha256Digest('') },
    };
    const bom = cycloneDxDocument(empty, meta);
    const spdx = spdxDocument(empty, meta);
    validateCycloneDx(bom);
    validateSpdx(spdx);
    const bytes = serializeBom(bom);
    const sbom = { bom, bytes, spdx: { doc: spdx, bytes: serializeSpdx(spdx) }, lockfiles: [], warnings };
    return { ...sbom, withLicenses: async () => sbom }; // no components: nothing to give a license to
  }
  // Companions (go.mod, pyproject.toml, `-r` includes) shape the graph as much as the lockfiles: they are keyed,
  // attested and checked for changes the same way.
  const companions = await readCompanions(present, read);
  const lockfiles = [
    ...present.map((p) => ({ path: p.reader.path, digest: sha256Digest(p.bytes) })),
    ...[...companions].map(([path, bytes]) => ({ path, digest: sha256Digest(bytes) })),
  ];
  // package.json only matters for a v1 lockfile (which does not say what the project depends on directly).
  const manifest = await read('package.json');
  const platform = hostNpmPlatform(); // optional packages for other platforms are not installed, so not listed
  const ctx: ReadContext = {
    platform,
    manifest: manifest ? { text: manifest.toString('utf8'), file: 'package.json' } : undefined,
    companions: new Map([...companions].map(([path, bytes]) => [path, bytes.toString('utf8')])),
  };
  // Read only when needed: not when the SBOM comes from the memo and no license is added.
  let graph: ComponentGraph | undefined;
  const graphOf = () =>
    (graph ??= mergeGraphs(present.map((p) => p.reader.read(p.bytes.toString('utf8'), p.reader.path, ctx))));
  const made = await lockfileSbom(graphOf, { meta, lockfiles, manifest, platform, memo: input.memo });
  const sbom: BuildSbom = { ...made, lockfiles, warnings };
  return {
    ...sbom,
    withLicenses: (licenses) => withInstalledLicenses(graphOf(), licenses, sbom, { meta, memo: input.memo }),
  };
}

/** The rendered documents of a build SBOM, without what was read to make them. */
type RenderedSbom = Pick<BuildSbom, 'bom' | 'bytes' | 'spdx'>;

/** The documents of the lockfiles' graph, from the memo when it has them. */
async function lockfileSbom(
  graphOf: () => ComponentGraph,
  input: {
    meta: CycloneDxMeta;
    lockfiles: BuildSbom['lockfiles'];
    manifest: Buffer | undefined;
    platform: NpmPlatform;
    memo: SbomMemo | undefined;
  },
): Promise<RenderedSbom> {
  const { meta, lockfiles, memo } = input;
  // The SBOM is a pure function of these, the commit and Kiln's version: reuse it when none changed (the bytes
  // come back verified against their digest).
  const manifest = input.manifest ? sha256Digest(input.manifest) : null;
  const inputs = { lockfiles, manifest, platform: input.platform, ...meta };
  const key = sha256Digest(canonicalJson({ sbom: 'cyclonedx-1.6', ...inputs }));
  const spdxKey = sha256Digest(canonicalJson({ sbom: 'spdx-2.3', ...inputs }));
  const [cached, cachedSpdx] = await Promise.all([memo?.get(key), memo?.get(spdxKey)]);
  if (cached && cachedSpdx) {
    const spdx = { doc: JSON.parse(cachedSpdx.toString('utf8')) as unknown, bytes: cachedSpdx };
    return { bom: JSON.parse(cached.toString('utf8')) as unknown, bytes: cached, spdx };
  }
  const rendered = await renderSbom(graphOf(), meta, memo, { lockfiles });
  await memo?.put(key, rendered.bytes);
  await memo?.put(spdxKey, rendered.spdx.bytes);
  return rendered;
}

/**
 * `sbom` again with licenses found after the steps ran (see installed-licenses.ts: the package.json files the steps
 * installed) given to npm components the lockfiles left without one. Such a license is what the package itself
 * declares, so CycloneDX says `acknowledgement: declared` as for one from a lockfile, and SPDX `licenseDeclared`.
 */
async function withInstalledLicenses(
  graph: ComponentGraph,
  licenses: ReadonlyMap<string, string>,
  sbom: BuildSbom,
  ctx: { meta: CycloneDxMeta; memo: SbomMemo | undefined },
): Promise<BuildSbom> {
  const given: [string, string][] = [];
  const components = graph.components.map((c) => {
    const license = c.license === undefined && c.purl.startsWith('pkg:npm/') ? licenses.get(c.purl)?.trim() : undefined;
    if (!license) return c;
    given.push([c.ref, license]);
    return { ...c, license };
  });
  if (given.length === 0) return sbom;
  // Components are sorted by ref, so `given` is too. The documents' serial number and namespace are derived from the
  // graph's source digest: folding the added licenses into it keeps them distinct from the lockfile-only documents
  // (a different document must not share its identifier), and the same for the same licenses.
  const installed = sha256Digest(canonicalJson({ installedLicenses: given }));
  const digest = sha256Digest(`${graph.lockfile.digest}\n${installed}`);
  const licensed: ComponentGraph = deepFreeze({ ...graph, components, lockfile: { ...graph.lockfile, digest } });
  const rendered = await renderSbom(licensed, ctx.meta, ctx.memo, { lockfiles: sbom.lockfiles, installed });
  return { ...rendered, lockfiles: sbom.lockfiles, warnings: sbom.warnings };
}

/** Builds both documents of `graph` and validates them, once per shape (see below). */
async function renderSbom(
  graph: ComponentGraph,
  meta: CycloneDxMeta,
  memo: SbomMemo | undefined,
  shapeOf: { lockfiles: BuildSbom['lockfiles']; installed?: string },
): Promise<RenderedSbom> {
  const bom = cycloneDxDocument(graph, meta);
  const spdx = spdxDocument(graph, meta);
  // Between commits only the serial number and timestamp change, both written in fixed formats by the writers;
  // so documents pass their schemas for every commit once they passed for one. Validate once per set of
  // lockfiles (and installed licenses) and Kiln version, and skip compiling the schemas (the slow part) after that.
  const shape = sha256Digest(
    canonicalJson({
      sbomSchemaPassed: 'cyclonedx-1.6+spdx-2.3',
      lockfiles: shapeOf.lockfiles,
      tool: meta.toolVersion,
      ...(shapeOf.installed === undefined ? {} : { installedLicenses: shapeOf.installed }),
    }),
  );
  if (!(await memo?.get(shape))) {
    validateCycloneDx(bom);
    validateSpdx(spdx);
    await memo?.put(shape, Buffer.from('valid\n'));
  }
  return { bom, bytes: serializeBom(bom), spdx: { doc: spdx, bytes: serializeSpdx(spdx) } };
}

/** Fails when a step rewrote a lockfile: the SBOM and provenance must describe what was committed. */
export async function assertLockfileUnchanged(view: SourceView, lockfiles: BuildSbom['lockfiles']): Promise<void> {
  if (lockfiles.length === 0 || !(await pathExists(view.projectDir))) return; // never checked out: nothing changed
  for (const lockfile of lockfiles) {
    const now = await fsp.readFile(join(view.projectDir, lockfile.path)).then(sha256Digest, () => 'missing');
    if (now !== lockfile.digest) {
      throw new KilnError(
        'E_LOCKFILE_INVALID',
        `a step changed ${lockfile.path} during the build (committed ${lockfile.digest}, now ${now})`,
        {
          hint: 'install without rewriting it (npm ci, pnpm install --frozen-lockfile, yarn install --immutable, cargo build --locked, go build -mod=readonly, poetry install --no-update), or commit the updated file',
        },
      );
    }
  }
}
