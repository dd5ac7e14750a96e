// After the steps: package each artifact, sign its evidence, let the policy decide, publish, deliver files. Each stage
// takes its own input; this file only hands one stage's output to the next.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { EvidenceBytes } from '../../attest/evidence.js';
import { buildIsolation, notHermeticBecause } from '../../attest/provenance.js';
import { treeDigest } from '../../cache/index.js';
import { artifactFileName } from '../../config/index.js';
import { type Digest, sha256Digest } from '../../core/digest.js';
import { isoSeconds } from '../../core/time.js';
import type { StepResult } from '../../execute/index.js';
import { packageArtifact } from '../../package/index.js';
import type { PlannedStep } from '../../plan/steps.js';
import { environmentError } from '../../platform/disk.js';
import { type BuilderIdentity, builderToolchain } from '../../sandbox/identity.js';
import type { BuildSbom } from '../../sbom/make.js';
import type { BuildScan } from '../../scan/database.js';
import { type AttestInput, judge, signStatements, signVerdict } from './attest.js';
import { blockedBuild, type Deliverable, deliverFiles } from './deliver.js';
import type { PreparedBuild } from './prepare.js';
import { publishArtifacts } from './publish.js';
import { artifactRows, builderIdOf } from './record.js';
import type { BuildWorld } from './types.js';

/** The SBOM and scan of some of the build's artifacts: those built from the workspace packages the SBOM describes. */
export interface ArtifactsEvidence {
  /** The artifacts' kiln.yaml names. */
  readonly artifacts: readonly string[];
  readonly sbom: BuildSbom;
  readonly scan: BuildScan;
}

/** What the steps left for the finishing stages. */
export interface FinishInput {
  readonly buildId: string;
  readonly workDir: string;
  readonly startedAt: Date;
  readonly builder: BuilderIdentity;
  /** Every artifact is in exactly one of these; one for all of them without workspace packages. */
  readonly evidence: readonly ArtifactsEvidence[];
  readonly steps: readonly PlannedStep[];
  readonly results: ReadonlyMap<string, StepResult>;
  /** Where the outputs of each artifact's step were restored (`<outputsDir>/<step>`). */
  readonly outputsDir: string;
  /** Throws when the build was interrupted; called between units of work. */
  readonly interrupted: () => void;
}

/**
 * Runs package → attest → gate (for each SBOM's artifacts) → publish → deliver; returns the delivered artifacts and
 * their store rows. A block of any artifact blocks them all: nothing is published.
 */
export async function finishBuild(world: BuildWorld, prepared: PreparedBuild, input: FinishInput) {
  const { ports } = world;
  const { config, source } = prepared;
  const stepsEnded = ports.now().getTime();
  const packed = await packageAll(world, prepared, input);
  const judged = [];
  for (const described of input.evidence) {
    const artifacts = packed.filter((p) => described.artifacts.includes(p.name));
    judged.push(await attestAndJudge(world, prepared, input, described, artifacts));
  }
  const outputDir = join(prepared.projectPath, config.output);
  if (judged.some((j) => j.decision.verdict === 'block')) {
    const kept = { buildId: input.buildId, dir: join(ports.home.buildDir(input.buildId), 'blocked'), outputDir };
    throw await blockedBuild({ ...kept, project: config.name }, judged);
  }
  const evidenceOf = new Map(judged.flatMap((j) => j.subjects.map((s) => [s.name, j.evidence])));
  const evidenced = packed.map((p) => ({ ...p, evidence: evidenceOf.get(p.title) as EvidenceBytes }));

  const { layoutDir, name } = ports.artifacts;
  ports.events({ kind: 'stage', stage: 'publish', detail: layoutDir === undefined ? name : `OCI layout ${layoutDir}` });
  const published = await publishArtifacts(ports.artifacts, {
    buildId: input.buildId,
    project: config.name,
    source,
    artifacts: evidenced,
    interrupted: input.interrupted,
  }).catch((err: unknown) => {
    throw environmentError(err, layoutDir ?? name) ?? err; // a full disk names the layout, not just the device
  });
  const publishMs = Math.max(0, ports.now().getTime() - stepsEnded); // M3: the artifacts are in the layout or registry
  input.interrupted();
  world.checkpoint?.('before-deliver');
  const deliverables: Deliverable[] = evidenced.map((p, i) => ({
    ...p,
    published: published[i] as Deliverable['published'],
  }));
  const artifacts = await deliverFiles(outputDir, deliverables, () => world.checkpoint?.('while-delivering'));
  return { artifacts, rows: artifactRows(input.buildId, artifacts, published), publishMs, findings: findingsOf(input) };
}

/** Signs provenance, SBOM and scan about `artifacts` and lets the policy decide over them; signs the decision. */
async function attestAndJudge(
  world: BuildWorld,
  prepared: PreparedBuild,
  input: FinishInput,
  described: ArtifactsEvidence,
  artifacts: readonly { readonly title: string; readonly digest: Digest }[],
) {
  const { ports } = world;
  const { config, source } = prepared;
  const subjects = artifacts.map((p) => ({ name: p.title, digest: p.digest }));
  // Several SBOMs: each stage says whose artifacts it is about.
  const about = input.evidence.length > 1 ? ` of ${subjects.map((s) => s.name).join(', ')}` : '';
  const signer = prepared.signing.signer;
  ports.events({
    kind: 'stage',
    stage: 'sign',
    detail: `provenance, SBOM and scan statements${about} with key ${signer.keyHint}`,
  });
  const provenance = provenanceOf(world, prepared, input, described.sbom.lockfiles);
  const attest: AttestInput = { subjects, signer, provenance, sbom: described.sbom };
  const signed = await signStatements(attest);

  ports.events({
    kind: 'stage',
    stage: 'gate',
    detail: `policy${about}: vulnerabilities, licenses, required evidence`,
  });
  const now = ports.now();
  const networkSteps = input.steps.filter((s) => s.network).map((s) => s.name);
  const isolation = buildIsolation(provenance);
  const gate = {
    policy: config.policy,
    scan: described.scan,
    today: isoSeconds(now).slice(0, 10),
    isolation,
    notHermetic: notHermeticBecause(isolation, world.runner.kind, networkSteps),
  };
  const decision = judge(gate, signed, signer, described.sbom.bytes.length);
  for (const message of decision.warnings) ports.events({ kind: 'warning', message });
  for (const w of decision.waived) {
    ports.events({ kind: 'notice', message: `policy: ${w.id} in ${w.component} let through by ${w.reason}` });
  }
  const verdict = {
    decision,
    scan: described.scan,
    policy: config.policy,
    kilnVersion: ports.version,
    startedAt: input.startedAt,
    finishedAt: ports.now(),
    resourceUri: `git+${source.repoUrl}@${source.commit}`,
  };
  const evidence = await signVerdict(attest, verdict, signed, described.sbom);
  return { subjects, decision, evidence };
}

/** Packs every artifact of kiln.yaml into the work dir's `out/`. */
async function packageAll(world: BuildWorld, prepared: PreparedBuild, input: FinishInput) {
  const { config, source } = prepared;
  const outDir = join(input.workDir, 'out');
  await fsp.mkdir(outDir, { recursive: true });
  const packed = [];
  for (const artifact of config.artifacts) {
    input.interrupted();
    const title = artifactFileName(artifact);
    world.ports.events({ kind: 'stage', stage: 'package', detail: `${artifact.path} → ${title}` });
    const file = join(outDir, title);
    const result = await packageArtifact(artifact, {
      stepOutputs: join(input.outputsDir, artifact.from),
      dest: file,
      sourceDateEpoch: source.sourceDateEpoch,
      declaredOutputs: config.steps[artifact.from]?.outputs ?? [],
    });
    packed.push({
      name: artifact.name,
      format: artifact.format,
      file,
      title,
      digest: result.digest,
      size: result.size,
    });
  }
  return packed;
}

/** What provenance says about the build: source, kiln.yaml, steps as they ran, the SBOM's lockfiles, toolchain, runner. */
function provenanceOf(
  world: BuildWorld,
  prepared: PreparedBuild,
  input: FinishInput,
  lockfiles: BuildSbom['lockfiles'],
) {
  const { ports, runner } = world;
  const { source, configText } = prepared;
  return {
    builderId: builderIdOf(world),
    // A worker's build names the worker, and the builder's version; a local build's provenance is as it always was.
    ...(world.worker ? { worker: world.worker, builderVersion: { kiln: ports.version } } : {}),
    buildId: input.buildId,
    startedOn: isoSeconds(input.startedAt),
    finishedOn: isoSeconds(ports.now()),
    source: { repoUrl: source.repoUrl, commit: source.commit, subdir: source.subdir, dirty: source.dirty },
    config: { path: [source.subdir, 'kiln.yaml'].filter(Boolean).join('/'), digest: sha256Digest(configText) },
    steps: input.steps.map((st) => {
      const r = input.results.get(st.name);
      return {
        name: st.name,
        run: st.run,
        network: st.network,
        ...(r?.tree ? { outputs: treeDigest(r.tree) } : {}),
        ...(r?.producedBy && r.report.status === 'cached' ? { cachedFrom: r.producedBy } : {}),
      };
    }),
    lockfiles: [...lockfiles],
    toolchain: builderToolchain(input.builder, runner.kind, ports.version).map((t) => ({
      name: t.name,
      version: t.version ?? 'unknown',
      digest: `sha256:${t.sha256}` as Digest,
    })),
    // Whether the runner sandboxes steps; the build is hermetic only if no step had network as well.
    runner: { kind: runner.kind, sandboxed: runner.sandboxed },
  };
}

/** The scan's findings by severity over every SBOM of the build; undefined without vulnerability data to scan with. */
function findingsOf(input: FinishInput): Record<string, number> | undefined {
  if (input.evidence.every((e) => e.scan.database.revision === 0)) return undefined;
  const bySeverity: Record<string, number> = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
  for (const e of input.evidence) {
    for (const f of e.scan.result.findings) bySeverity[f.severity.level] = (bySeverity[f.severity.level] ?? 0) + 1;
  }
  return bySeverity;
}
