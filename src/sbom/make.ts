// The SBOM of a project: every lockfile Kiln reads, merged into one component graph, rendered as CycloneDX 1.6 and
// SPDX 2.3 and validated; a project without one gets a document with no dependencies, and a warning.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { type Digest, sha256Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import { canonicalJson, deepFreeze } from '../core/json.js';
import { pathExists } from '../platform/fsutil.js';
import type { SourceRef } from '../source/index.js';
import {
  type BuildTool,
  type ComponentGraph,
  type CycloneDxMeta,
  cycloneDxDocument,
  hostNpmPlatform,
  mergeGraphs,
  type NpmPlatform,
  serializeBom,
  serializeSpdx,
  spdxDocument,
  validateCycloneDx,
  validateSpdx,
} from './index.js';
import { LOCKFILE_READERS, type ReadContext, readCompanions, UNREAD_LOCKFILES } from './lockfiles/readers.js';
import { readLockfile, readWorkspaceManifests, type WorkspaceKey } from './workspace-sbom.js';

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

/** The project's files as the SBOM reads them: a commit's tree in a build, the working tree for `kiln sbom`. */
export interface ProjectFiles {
  readonly projectDir: string;
  readFile(path: string): Promise<Buffer>;
}

/** A content-addressed memo of SBOMs (the local cache). */
export interface SbomMemo {
  get(key: Digest): Promise<Buffer | undefined>;
  put(key: Digest, bytes: Buffer): Promise<void>;
}

/** Builds and validates the CycloneDX and SPDX SBOMs of the project as committed. */
export async function makeSbom(input: {
  /** Where the project's files are read (a commit's tree in a build; the working tree for `kiln sbom`). */
  view: ProjectFiles;
  source: Pick<SourceRef, 'commit' | 'sourceDateEpoch' | 'subdir'>;
  config: { name: string };
  kilnVersion: string;
  /** What builds the artifact (the builder's tools, Kiln's builder): listed in both SBOMs as build-time. */
  buildTools?: readonly BuildTool[] | undefined;
  /** Remembers SBOM bytes by the digest of everything they are made from. */
  memo?: SbomMemo | undefined;
  /**
   * The project's workspace packages (directories relative to the project) and those the SBOM describes: the
   * packages the artifacts were built from, each with its own dependencies (see workspace-sbom.ts). Without
   * `describe`, the whole workspace. Without packages, the project as its lockfiles lay it out.
   */
  workspace?: { readonly packages: readonly string[]; readonly describe?: readonly string[] | undefined } | undefined;
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
  const workspace = await readWorkspaceManifests(input.workspace, read);
  const ctx: ReadContext = {
    platform,
    manifest: manifest ? { text: manifest.toString('utf8'), file: 'package.json' } : undefined,
    companions: new Map([...companions].map(([path, bytes]) => [path, bytes.toString('utf8')])),
    projectName: input.config.name,
  };
  // Read only when needed: not when the SBOM comes from the memo and no license is added.
  let graph: ComponentGraph | undefined;
  const graphOf = () => (graph ??= mergeGraphs(present.map((p) => readLockfile(p.reader, p.bytes, ctx, workspace))));
  const made = await lockfileSbom(graphOf, {
    meta,
    lockfiles,
    manifest,
    platform,
    memo: input.memo,
    workspace: workspace?.key,
  });
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
    workspace: WorkspaceKey | undefined;
  },
): Promise<RenderedSbom> {
  const { meta, lockfiles, memo } = input;
  // The SBOM is a pure function of these, the commit and Kiln's version: reuse it when none changed (the bytes
  // come back verified against their digest).
  const manifest = input.manifest ? sha256Digest(input.manifest) : null;
  const inputs = {
    lockfiles,
    manifest,
    platform: input.platform,
    ...meta,
    ...(input.workspace ? { workspace: input.workspace } : {}),
  };
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
export async function assertLockfileUnchanged(view: ProjectFiles, lockfiles: BuildSbom['lockfiles']): Promise<void> {
  if (lockfiles.length === 0 || !(await pathExists(view.projectDir))) return; // never checked out: nothing changed
  for (const lockfile of lockfiles) {
    const now = await fsp.readFile(join(view.projectDir, lockfile.path)).then(sha256Digest, () => 'missing');
    if (now !== lockfile.digest) {
      throw new KilnError(
        'KILN_LOCKFILE_INVALID',
        `a step changed ${lockfile.path} during the build (committed ${lockfile.digest}, now ${now})`,
        {
          hint: 'install without rewriting it (npm ci, pnpm install --frozen-lockfile, yarn install --immutable, cargo build --locked, go build -mod=readonly, uv sync --frozen; poetry install never rewrites a current poetry.lock), or commit the updated file',
        },
      );
    }
  }
}
