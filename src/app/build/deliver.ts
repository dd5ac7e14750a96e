// After the steps: package each artifact, sign its evidence, let the policy decide, publish, deliver files.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { bundleBytes, signStatement } from '../../attest/bundle.js';
import { type DsseEnvelope, dsseSignedBy } from '../../attest/dsse.js';
import { EVIDENCE, type EvidenceBytes, type EvidencePaths, evidencePaths } from '../../attest/evidence.js';
import { LOCAL_BUILDER_ID, provenancePredicate } from '../../attest/provenance.js';
import type { Signer } from '../../attest/signer.js';
import {
  CYCLONEDX_PREDICATE,
  makeStatement,
  SLSA_PROVENANCE_V1,
  VSA_PREDICATE,
  VULNS_PREDICATE,
} from '../../attest/statement.js';
import { type ArtifactConfig, artifactFileName, type KilnConfig } from '../../config/index.js';
import { type Digest, sha256Digest } from '../../core/digest.js';
import { KilnError } from '../../core/errors.js';
import type { EventSink } from '../../core/events.js';
import type { KilnPaths } from '../../core/home.js';
import { canonicalJson } from '../../core/json.js';
import { isoSeconds } from '../../core/time.js';
import { copyFileArtifact, type PackedArtifact, packDirectory, resolveInside } from '../../package/index.js';
import { pathExists, writeFileAtomic } from '../../platform/fsutil.js';
import { decide, type PolicyDecision } from '../../policy/gate.js';
import { vsaPredicate } from '../../policy/vsa.js';
import { openOciLayout } from '../../registry/index.js';
import type { StepRunner } from '../../sandbox/index.js';
import { SPDX_PREDICATE } from '../../sbom/formats/spdx/document.js';
import type { BuildSbom } from '../../sbom/make.js';
import type { BuildScan } from '../../scan/database.js';
import { vulnsPredicate } from '../../scan/vulns-predicate.js';
import type { SourceRef } from '../../source/index.js';
import { publishArtifact } from './publish.js';

/** One artifact as handed to the user: every path is a file they can open. */
export interface DeliveredArtifact {
  readonly name: string;
  readonly path: string;
  readonly digest: Digest;
  readonly size: number;
  /** The evidence files beside it, by kind. */
  readonly evidence: EvidencePaths;
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
  readonly kilnVersion: string;
  /** The builder and its tools, as provenance resolvedDependencies. */
  readonly toolchain: readonly { name: string; version: string; digest?: Digest }[];
  readonly runner: StepRunner;
  readonly startedAt: Date;
  readonly now: () => Date;
  readonly sbom: BuildSbom;
  /** The SBOM matched against the vulnerability data (scan stage). */
  readonly scan: BuildScan;
  /** The steps as they ran (for provenance): network ones, output trees, and cache replays. */
  readonly steps: readonly { name: string; run: string; network: boolean; outputs?: Digest; cachedFrom?: string }[];
  readonly emit: EventSink;
  /** Throws when the build was interrupted; called between units of work. */
  readonly interrupted: () => void;
  readonly checkpoint?: ((name: 'before-deliver') => void) | undefined;
}

/** Runs package → attest → gate → publish → deliver; returns what to print and the store rows. */
export async function deliver(input: DeliverInput) {
  const { config, emit } = input;
  const outDir = join(input.workDir, 'out');
  await fsp.mkdir(outDir, { recursive: true });
  const packed: { config: ArtifactConfig; file: string; result: PackedArtifact }[] = [];
  for (const artifact of config.artifacts) {
    input.interrupted();
    const file = artifactFileName(artifact);
    emit({ kind: 'stage', stage: 'package', detail: `${artifact.path} → ${file}` });
    packed.push({ config: artifact, file, result: await packOne(input, artifact, join(outDir, file)) });
  }
  const subjects = packed.map((p) => ({ name: p.file, digest: p.result.digest }));
  emit({
    kind: 'stage',
    stage: 'sign',
    detail: `provenance, SBOM and scan statements with key ${input.signer.keyHint}`,
  });
  const evidence = await attestAndGate(input, subjects);

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
        source: input.source,
        evidence,
      }),
    );
  }
  input.interrupted();
  input.checkpoint?.('before-deliver');
  const delivered: DeliveredArtifact[] = [];
  for (const [i, p] of packed.entries()) {
    const target = join(input.outputDir, p.file);
    const paths = evidencePaths(target);
    // Evidence first, the artifact last: whoever sees the artifact also finds its evidence.
    for (const e of EVIDENCE) await writeFileAtomic(paths[e.kind], evidence[e.kind]);
    await copyFileArtifact(join(outDir, p.file), target);
    delivered.push({
      name: p.config.name,
      path: target,
      digest: p.result.digest,
      size: p.result.size,
      evidence: paths,
      manifestDigest: published[i]?.artifact.digest as Digest,
    });
  }
  return { artifacts: delivered, rows: storeRows(input.buildId, delivered, published) };
}

/**
 * Signs provenance, both SBOMs and the scan, lets the policy decide, and signs the decision (a VSA). A blocked
 * build throws E_POLICY_BLOCKED after leaving its evidence in the build directory, and nothing is published.
 */
async function attestAndGate(
  input: DeliverInput,
  subjects: { name: string; digest: Digest }[],
): Promise<EvidenceBytes> {
  const { source, sbom, scan, signer } = input;
  // Each envelope is kept to check the signer's signatures (a KMS signer could return bad ones).
  const envelopes: DsseEnvelope[] = [];
  const sign = async (predicateType: string, predicate: unknown) => {
    const bundle = await signStatement(makeStatement(subjects, predicateType, predicate), signer);
    envelopes.push(bundle.dsseEnvelope);
    return bundleBytes(bundle);
  };
  const provenance = await sign(
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
  const sbomAttestation = await sign(CYCLONEDX_PREDICATE, sbom.bom);
  const spdxAttestation = await sign(SPDX_PREDICATE, sbom.spdx.doc);

  input.emit({ kind: 'stage', stage: 'gate', detail: 'policy: vulnerabilities, licenses, required evidence' });
  const network = input.steps.filter((s) => s.network).map((s) => s.name);
  const decision = decide({
    policy: input.config.policy,
    scan: scan.result,
    graph: scan.graph,
    vex: scan.vex,
    today: isoSeconds(input.now()).slice(0, 10),
    evidence: {
      sbom: sbom.bytes.length > 0,
      signed: envelopes.every((e) => dsseSignedBy(e, signer.publicKeyPem)),
      hermetic: !input.runner.hermetic
        ? { ok: false, why: `steps ran with the ${input.runner.kind} runner, outside the sandbox` }
        : network.length > 0
          ? { ok: false, why: `step(s) ${network.join(', ')} had network access` }
          : { ok: true, why: '' },
      vulnerabilityRecords: scan.database.records,
    },
  });
  for (const message of decision.warnings) input.emit({ kind: 'warning', message });
  for (const w of decision.waived) {
    input.emit({ kind: 'notice', message: `policy: ${w.id} in ${w.component} let through by ${w.reason}` });
  }
  const finished = isoSeconds(input.now());
  const waived = new Map(decision.waived.map((w) => [`${w.id} ${w.component}`, w]));
  const vulns = await sign(
    VULNS_PREDICATE,
    vulnsPredicate({
      kilnVersion: input.kilnVersion,
      scan: scan.result,
      database: scan.database,
      startedOn: isoSeconds(input.startedAt),
      finishedOn: finished,
      waived,
    }),
  );
  const judged = {
    provenance,
    'sbom-attestation': sbomAttestation,
    'spdx-attestation': spdxAttestation,
    'vulns-attestation': vulns,
  };
  const policy = await sign(
    VSA_PREDICATE,
    vsaPredicate({
      kilnVersion: input.kilnVersion,
      timeVerified: finished,
      resourceUri: `git+${source.repoUrl}@${source.commit}`,
      policy: { uri: 'kiln.yaml#policy', digest: sha256Digest(canonicalJson(input.config.policy)) },
      inputAttestations: EVIDENCE.flatMap((e) => {
        const bytes = judged[e.kind as keyof typeof judged];
        return bytes ? [{ uri: `${subjects[0]?.name ?? ''}${e.suffix}`, digest: sha256Digest(bytes) }] : [];
      }),
      decision,
    }),
  );
  const evidence: EvidenceBytes = {
    provenance,
    sbom: sbom.bytes,
    'sbom-attestation': sbomAttestation,
    spdx: sbom.spdx.bytes,
    'spdx-attestation': spdxAttestation,
    'vulns-attestation': vulns,
    'policy-attestation': policy,
  };
  if (decision.verdict === 'block') throw await blocked(input, subjects, evidence, decision);
  return evidence;
}

/** Keeps a blocked build's evidence in its build directory (to read, not to deploy) and says what blocked it. */
async function blocked(
  input: DeliverInput,
  subjects: { name: string }[],
  evidence: EvidenceBytes,
  decision: PolicyDecision,
): Promise<KilnError> {
  const dir = join(input.paths.buildDir(input.buildId), 'blocked');
  const first = subjects[0]?.name ?? input.config.name;
  for (const e of EVIDENCE) await writeFileAtomic(join(dir, `${first}${e.suffix}`), evidence[e.kind]);
  const lines = decision.violations.map((v) => `  ${v.message}`);
  // An earlier build's delivery of the same files stays where it is: say so, so nobody takes it for this one.
  const stale = [];
  for (const s of subjects) if (await pathExists(join(input.outputDir, s.name))) stale.push(s.name);
  if (stale.length > 0) {
    lines.push(`  (${stale.join(', ')} in ${input.outputDir} is from an earlier build, not this one)`);
  }
  return new KilnError(
    'E_POLICY_BLOCKED',
    `the policy blocked ${subjects.map((s) => s.name).join(', ')} (${decision.violations.length} violation(s)); nothing was published:\n${lines.join('\n')}`,
    {
      hint: `upgrade the named dependencies, or add a policy.exceptions entry (id, reason, expires) to kiln.yaml; the signed scan and decision are in ${dir}`,
      details: { buildId: input.buildId, violations: decision.violations, evidenceDir: dir },
    },
  );
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
  const evidence = delivered.flatMap((d, i) =>
    (published[i]?.evidence ?? []).map((e) => ({
      build_id: buildId,
      artifact_name: d.name,
      kind: e.kind,
      media_type: e.layer.mediaType,
      digest: e.layer.digest,
      path: d.evidence[e.kind],
      manifest_digest: e.manifest.digest,
    })),
  );
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
