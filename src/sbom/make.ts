// The SBOM of a project: every lockfile Kiln reads, merged into one component graph, rendered as CycloneDX 1.6 and
// SPDX 2.3 and validated; a project without one gets a document with no dependencies, and a warning.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { type Digest, sha256Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import { canonicalJson, freezeOutline } from '../core/json.js';
import { pathExists } from '../platform/fsutil.js';
import type { SourceRef } from '../source/index.js';
import {
  type BuildTool,
  type ComponentGraph,
  type CycloneDxBom,
  type CycloneDxMeta,
  cycloneDxDocument,
  hostNpmPlatform,
  mergeGraphs,
  type SpdxDocument,
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

/**
 * A memo of SBOM document shapes that passed their schemas (the local cache). It never supplies SBOM content: the
 * documents are rendered from the committed lockfiles on every build, so nothing stored can change what is signed.
 */
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
  /** Remembers which document shapes already passed their schemas (see renderSbom). */
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
    const sbom = serializedLazily(bom, spdx, [], warnings);
    return Object.assign(sbom, { withLicenses: async () => sbom }); // no components: nothing to give a license to
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
  // The documents are always made from the lockfiles read just now: what the SBOM says is signed, so it must not come
  // from a file in the Kiln home that anyone able to write there could replace (decision 0026).
  const graph = mergeGraphs(present.map((p) => readLockfile(p.reader, p.bytes, ctx, workspace)));
  const made = await renderSbom(graph, meta, input.memo, { lockfiles, workspace: workspace?.key });
  const sbom = serializedLazily(made.bom, made.spdx, lockfiles, warnings);
  return Object.assign(sbom, {
    withLicenses: (licenses: ReadonlyMap<string, string>) =>
      withInstalledLicenses(graph, licenses, sbom, {
        meta,
        memo: input.memo,
        shape: { lockfiles, workspace: workspace?.key },
      }),
  });
}

/** The validated documents of a build SBOM, not yet serialized. */
interface RenderedSbom {
  readonly bom: CycloneDxBom;
  readonly spdx: SpdxDocument;
}

/**
 * The SBOM with each document's bytes serialized when first asked for, once: `kiln sbom` writes one of the two, and
 * serializing the other took a tenth of its time at 100k packages. (Spreading it would serialize both.)
 */
function serializedLazily(
  bom: CycloneDxBom,
  spdx: SpdxDocument,
  lockfiles: BuildSbom['lockfiles'],
  warnings: BuildSbom['warnings'],
): BuildSbom {
  let bomBytes: Buffer | undefined;
  let spdxBytes: Buffer | undefined;
  return {
    bom,
    get bytes() {
      bomBytes ??= serializeBom(bom);
      return bomBytes;
    },
    spdx: {
      doc: spdx,
      get bytes() {
        spdxBytes ??= serializeSpdx(spdx);
        return spdxBytes;
      },
    },
    lockfiles,
    warnings,
  };
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
  ctx: {
    meta: CycloneDxMeta;
    memo: SbomMemo | undefined;
    shape: { lockfiles: BuildSbom['lockfiles']; workspace?: WorkspaceKey | undefined };
  },
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
  const licensed: ComponentGraph = freezeOutline({ ...graph, components, lockfile: { ...graph.lockfile, digest } });
  const rendered = await renderSbom(licensed, ctx.meta, ctx.memo, { ...ctx.shape, installed });
  return serializedLazily(rendered.bom, rendered.spdx, sbom.lockfiles, sbom.warnings);
}

/** Builds both documents of `graph` and validates them, once per shape (see below). */
async function renderSbom(
  graph: ComponentGraph,
  meta: CycloneDxMeta,
  memo: SbomMemo | undefined,
  shapeOf: { lockfiles: BuildSbom['lockfiles']; installed?: string; workspace?: WorkspaceKey | undefined },
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
      ...(shapeOf.workspace === undefined ? {} : { workspace: shapeOf.workspace }),
    }),
  );
  if (!(await memo?.get(shape))) {
    validateCycloneDx(bom);
    validateSpdx(spdx);
    await memo?.put(shape, Buffer.from('valid\n'));
  }
  return { bom, spdx };
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
