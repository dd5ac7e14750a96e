// After the steps: package each artifact, sign provenance and both SBOMs, publish to the OCI layout, deliver files.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { signStatement } from '../attest/bundle.js';
import { LOCAL_BUILDER_ID, provenancePredicate } from '../attest/provenance.js';
import type { Signer } from '../attest/signer.js';
import { CYCLONEDX_PREDICATE, makeStatement, SLSA_PROVENANCE_V1 } from '../attest/statement.js';
import { type ArtifactConfig, artifactFileName, type KilnConfig } from '../config/index.js';
import type { Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import { writeFileAtomic } from '../core/fsutil.js';
import type { KilnPaths } from '../core/home.js';
import { canonicalJson } from '../core/json.js';
import { isoSeconds } from '../core/time.js';
import { copyFileArtifact, type PackedArtifact, packDirectory, resolveInside } from '../package/index.js';
import { openOciLayout } from '../registry/index.js';
import type { StepRunner } from '../sandbox/index.js';
import { SPDX_PREDICATE } from '../sbom/spdx.js';
import type { SourceRef } from '../source/index.js';
import { publishArtifact } from './publish.js';
import type { BuildSbom } from './sbom.js';

/** One artifact as handed to the user: every path is a file they can open. */
export interface DeliveredArtifact {
  readonly name: string;
  readonly path: string;
  readonly digest: Digest;
  readonly size: number;
  readonly bundle: string;
  readonly sbom: string;
  readonly sbomBundle: string;
  readonly spdx: string;
  readonly spdxBundle: string;
  readonly manifestDigest: Digest;
}

/** Inputs of the delivery stages. */
export interface DeliverInput {
  readonly buildId: string;
  readonly config: KilnConfig;
  readonly configDigest: Digest;
  readonly source: SourceRef;
  /** Where the restored outputs of a step are (artifact paths are resolved there). */
  readonly stepOutputs: (step: string) => string;
  readonly outputDir: string;
  readonly workDir: string;
  readonly paths: KilnPaths;
  readonly signer: Signer;
  /** The builder and its tools, as provenance resolvedDependencies. */
  readonly toolchain: readonly { name: string; version: string; digest?: Digest }[];
  readonly runner: StepRunner;
  readonly startedAt: Date;
  readonly now: () => Date;
  readonly sbom: BuildSbom;
  /** The steps as they ran (for provenance): network ones, output trees, and cache replays. */
  readonly steps: readonly { name: string; run: string; network: boolean; outputs?: Digest; cachedFrom?: string }[];
  readonly emit: EventSink;
  /** Throws when the build was interrupted; called between units of work. */
  readonly interrupted: () => void;
  readonly checkpoint?: ((name: 'before-deliver') => void) | undefined;
}

/** Runs package → sbom → sign → publish → deliver; returns what to print and the store rows. */
export async function deliver(input: DeliverInput) {
  const { config, source, emit } = input;
  const outDir = join(input.workDir, 'out');
  await fsp.mkdir(outDir, { recursive: true });
  const packed: { config: ArtifactConfig; file: string; result: PackedArtifact }[] = [];
  for (const artifact of config.artifacts) {
    input.interrupted();
    const file = artifactFileName(artifact);
    emit({ kind: 'stage', stage: 'package', detail: `${artifact.path} → ${file}` });
    packed.push({ config: artifact, file, result: await packOne(input, artifact, join(outDir, file)) });
  }
  const { sbom } = input;
  const subjects = packed.map((p) => ({ name: p.file, digest: p.result.digest }));
  emit({ kind: 'stage', stage: 'sign', detail: `provenance and SBOM statements with key ${input.signer.keyHint}` });
  const provenance = makeStatement(
    subjects,
    SLSA_PROVENANCE_V1,
    provenancePredicate({
      builderId: LOCAL_BUILDER_ID,
      buildId: input.buildId,
      startedOn: isoSeconds(input.startedAt),
      finishedOn: isoSeconds(input.now()),
      source: { repoUrl: source.repoUrl, commit: source.commit, subdir: source.subdir, dirty: source.dirty },
      config: { path: [source.subdir, 'kiln.yaml'].filter(Boolean).join('/'), digest: input.configDigest },
      steps: [...input.steps],
      lockfiles: [...sbom.lockfiles],
      toolchain: [...input.toolchain],
      runner: { kind: input.runner.kind, hermetic: input.runner.hermetic },
    }),
  );
  const provenanceBundle = Buffer.from(`${canonicalJson(await signStatement(provenance, input.signer), 2)}\n`);
  const sbomStatement = makeStatement(subjects, CYCLONEDX_PREDICATE, sbom.bom);
  const sbomBundle = Buffer.from(`${canonicalJson(await signStatement(sbomStatement, input.signer), 2)}\n`);
  const spdxStatement = makeStatement(subjects, SPDX_PREDICATE, sbom.spdx.doc);
  const spdxBundle = Buffer.from(`${canonicalJson(await signStatement(spdxStatement, input.signer), 2)}\n`);

  emit({ kind: 'stage', stage: 'publish', detail: `OCI layout ${input.paths.oci}` });
  const layout = await openOciLayout(input.paths.oci);
  const published = [];
  for (const p of packed) {
    input.interrupted();
    published.push(
      await publishArtifact(layout, {
        buildId: input.buildId,
        project: config.name,
        artifact: p.config,
        file: join(outDir, p.file),
        title: p.file,
        source,
        evidence: {
          provenance: provenanceBundle,
          sbom: sbom.bytes,
          sbomAttestation: sbomBundle,
          spdx: sbom.spdx.bytes,
          spdxAttestation: spdxBundle,
        },
      }),
    );
  }
  input.interrupted();
  input.checkpoint?.('before-deliver');
  const delivered: DeliveredArtifact[] = [];
  for (const [i, p] of packed.entries()) {
    const target = join(input.outputDir, p.file);
    // Evidence first, the artifact last: whoever sees the artifact also finds its evidence.
    await writeFileAtomic(`${target}.sigstore.json`, provenanceBundle);
    await writeFileAtomic(`${target}.cdx.json`, sbom.bytes);
    await writeFileAtomic(`${target}.cdx.sigstore.json`, sbomBundle);
    await writeFileAtomic(`${target}.spdx.json`, sbom.spdx.bytes);
    await writeFileAtomic(`${target}.spdx.sigstore.json`, spdxBundle);
    await copyFileArtifact(join(outDir, p.file), target);
    delivered.push({
      name: p.config.name,
      path: target,
      digest: p.result.digest,
      size: p.result.size,
      bundle: `${target}.sigstore.json`,
      sbom: `${target}.cdx.json`,
      sbomBundle: `${target}.cdx.sigstore.json`,
      spdx: `${target}.spdx.json`,
      spdxBundle: `${target}.spdx.sigstore.json`,
      manifestDigest: published[i]?.artifact.digest as Digest,
    });
  }
  return { artifacts: delivered, rows: storeRows(input.buildId, delivered, published) };
}

function storeRows(
  buildId: string,
  delivered: DeliveredArtifact[],
  published: Awaited<ReturnType<typeof publishArtifact>>[],
) {
  const artifacts = delivered.map((d) => ({
    build_id: buildId,
    name: d.name,
    digest: d.digest,
    size: d.size,
    path: d.path,
    manifest_digest: d.manifestDigest,
  }));
  const evidence = delivered.flatMap((d, i) => {
    const pub = published[i];
    if (!pub) return [];
    return [
      { kind: 'provenance' as const, path: d.bundle, desc: pub.provenance },
      { kind: 'sbom' as const, path: d.sbom, desc: pub.sbom },
      { kind: 'sbom-attestation' as const, path: d.sbomBundle, desc: pub.sbomAttestation },
      { kind: 'spdx' as const, path: d.spdx, desc: pub.spdx },
      { kind: 'spdx-attestation' as const, path: d.spdxBundle, desc: pub.spdxAttestation },
    ].map((e) => ({
      build_id: buildId,
      artifact_name: d.name,
      kind: e.kind,
      media_type: e.desc.layer.mediaType,
      digest: e.desc.layer.digest,
      path: e.path,
      manifest_digest: e.desc.manifest.digest,
    }));
  });
  return { artifacts, evidence };
}

async function packOne(input: DeliverInput, artifact: ArtifactConfig, dest: string): Promise<PackedArtifact> {
  const src = await resolveInside(input.stepOutputs(artifact.from), artifact.path, `artifact ${artifact.name}: path`);
  const stat = await fsp.lstat(src).catch(() => undefined);
  if (!stat) {
    const outputs = input.config.steps[artifact.from]?.outputs ?? [];
    throw new KilnError(
      'E_OUTPUT_MISSING',
      `artifact ${artifact.name}: step ${artifact.from} did not produce ${artifact.path}`,
      {
        hint: `make step ${artifact.from} write ${artifact.path} (its declared outputs: ${outputs.join(', ') || 'none'})`,
      },
    );
  }
  if (artifact.format === 'tgz') {
    if (!stat.isDirectory()) {
      throw new KilnError('E_PACKAGE_UNSAFE', `artifact ${artifact.name}: ${artifact.path} is not a directory`, {
        hint: 'use format: file for a single file, or point path at a directory',
      });
    }
    return packDirectory(src, dest, input.source.sourceDateEpoch);
  }
  return copyFileArtifact(src, dest);
}
