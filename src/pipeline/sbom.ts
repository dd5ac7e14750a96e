// The SBOM for a build: from the committed package-lock.json when there is one, else a document with no dependencies.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { LocalCas } from '../cache/index.js';
import { type Digest, isDigest, sha256Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import { pathExists, writeFileAtomic } from '../core/fsutil.js';
import { canonicalJson } from '../core/json.js';
import {
  type BuildTool,
  type ComponentGraph,
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
} from '../sbom/index.js';
import type { SourceRef } from '../source/index.js';
import type { SourceView } from './source-view.js';

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
      return readPoetryLockfile(text, path, pyproject ? { pyproject } : {});
    },
  },
  { path: 'uv.lock', read: (text, path) => readUvLockfile(text, path) },
  {
    path: 'requirements.txt',
    companions: (text, path) => (path.endsWith('.toml') ? [] : [...requirementIncludes(text, path), 'pyproject.toml']),
    read: (text, path, ctx) => {
      const pyproject = companion(ctx, 'pyproject.toml');
      return readRequirementsTxt(text, path, { files: ctx.companions, ...(pyproject ? { pyproject } : {}) });
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
  view: SourceView;
  source: SourceRef;
  config: { name: string };
  kilnVersion: string;
  /** What builds the artifact (the builder's tools, Kiln's builder): listed in both SBOMs as build-time. */
  buildTools?: readonly BuildTool[] | undefined;
  /** Remembers SBOM bytes by the digest of everything they are made from. */
  memo?: SbomMemo | undefined;
}): Promise<BuildSbom> {
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
    return { bom, bytes, spdx: { doc: spdx, bytes: serializeSpdx(spdx) }, lockfiles: [], warnings };
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
  // The SBOM is a pure function of these, the commit and Kiln's version: reuse it when none changed (the bytes
  // come back verified against their digest).
  const inputs = { lockfiles, manifest: manifest ? sha256Digest(manifest) : null, platform, ...meta };
  const key = sha256Digest(canonicalJson({ sbom: 'cyclonedx-1.6', ...inputs }));
  const spdxKey = sha256Digest(canonicalJson({ sbom: 'spdx-2.3', ...inputs }));
  const [cached, cachedSpdx] = await Promise.all([input.memo?.get(key), input.memo?.get(spdxKey)]);
  if (cached && cachedSpdx) {
    const spdx = { doc: JSON.parse(cachedSpdx.toString('utf8')) as unknown, bytes: cachedSpdx };
    return { bom: JSON.parse(cached.toString('utf8')) as unknown, bytes: cached, spdx, lockfiles, warnings };
  }
  const ctx: ReadContext = {
    platform,
    manifest: manifest ? { text: manifest.toString('utf8'), file: 'package.json' } : undefined,
    companions: new Map([...companions].map(([path, bytes]) => [path, bytes.toString('utf8')])),
  };
  const graph = mergeGraphs(present.map((p) => p.reader.read(p.bytes.toString('utf8'), p.reader.path, ctx)));
  const bom = cycloneDxDocument(graph, meta);
  const spdx = spdxDocument(graph, meta);
  // Between commits only the serial number and timestamp change, both written in fixed formats by the writers;
  // so documents pass their schemas for every commit once they passed for one. Validate once per set of
  // lockfiles and Kiln version, and skip compiling the schemas (the slow part) after that.
  const shape = sha256Digest(
    canonicalJson({ sbomSchemaPassed: 'cyclonedx-1.6+spdx-2.3', lockfiles, tool: meta.toolVersion }),
  );
  if (!(await input.memo?.get(shape))) {
    validateCycloneDx(bom);
    validateSpdx(spdx);
    await input.memo?.put(shape, Buffer.from('valid\n'));
  }
  const bytes = serializeBom(bom);
  const spdxBytes = serializeSpdx(spdx);
  await input.memo?.put(key, bytes);
  await input.memo?.put(spdxKey, spdxBytes);
  return { bom, bytes, spdx: { doc: spdx, bytes: spdxBytes }, lockfiles, warnings };
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
