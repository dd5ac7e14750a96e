// The deliver stage: artifacts and their evidence into the kiln.yaml `output` directory, evidence first, so whoever
// sees an artifact also finds its evidence. A blocked build's evidence goes to its build directory instead.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { EVIDENCE, type EvidenceBytes, type EvidencePaths, evidencePaths } from '../../attest/evidence.js';
import type { Digest } from '../../core/digest.js';
import { KilnError } from '../../core/errors.js';
import { environmentError } from '../../platform/disk.js';
import { fsyncDir, pathExists, tempPathFor, writeFileAtomic } from '../../platform/fsutil.js';
import { type LockEnv, PROCESS_LOCK_ENV } from '../../platform/processes.js';
import { blockedHint, type PolicyDecision } from '../../policy/gate.js';
import type { PublishedArtifact } from '../../registry/target.js';

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

/** A packed artifact ready to deliver: where it is, what it is, its evidence, and where it was published. */
export interface Deliverable {
  readonly name: string;
  readonly file: string;
  /** The delivered file name. */
  readonly title: string;
  readonly digest: Digest;
  readonly size: number;
  readonly evidence: EvidenceBytes;
  readonly published: PublishedArtifact;
}

/**
 * Delivers each artifact with its evidence into `outputDir` so that the directory never pairs an artifact with
 * another build's evidence: every new file is first written in full under a temp name (a full disk fails here, with
 * the old set untouched), then the old artifact goes, the evidence is renamed into place, and the artifact last. A
 * process killed meanwhile leaves an artifact missing at worst, never a mix; its temp files go on the next delivery.
 */
export async function deliverFiles(
  outputDir: string,
  artifacts: readonly Deliverable[],
  /** Called once an artifact's files are staged, before any is renamed into place (tests crash the process here). */
  onStaged: () => void = () => {},
): Promise<DeliveredArtifact[]> {
  await fsp.mkdir(outputDir, { recursive: true });
  await removeStaleTempFiles(outputDir);
  const delivered: DeliveredArtifact[] = [];
  for (const a of artifacts) {
    const target = join(outputDir, a.title);
    const paths = evidencePaths(target);
    const files: { tmp: string; final: string }[] = [];
    try {
      for (const e of EVIDENCE) files.push(await stage(paths[e.kind], (tmp) => fsp.writeFile(tmp, a.evidence[e.kind])));
      files.push(await stage(target, (tmp) => fsp.copyFile(a.file, tmp)));
    } catch (err) {
      await Promise.all(files.map(({ tmp }) => fsp.rm(tmp, { force: true })));
      throw environmentError(err, outputDir) ?? err;
    }
    onStaged();
    await fsp.rm(target, { force: true });
    for (const { tmp, final } of files) await fsp.rename(tmp, final);
    await fsyncDir(outputDir);
    delivered.push({
      name: a.name,
      path: target,
      digest: a.digest,
      size: a.size,
      evidence: paths,
      manifestDigest: a.published.artifact.digest,
    });
  }
  return delivered;
}

/** Writes `final`'s content under a temp name beside it (mode 0644, fsynced); renamed into place by the caller. */
async function stage(final: string, write: (tmp: string) => Promise<void>): Promise<{ tmp: string; final: string }> {
  const tmp = tempPathFor(final);
  try {
    await write(tmp);
    await fsp.chmod(tmp, 0o644);
    const fh = await fsp.open(tmp, 'r');
    await fh.sync().finally(() => fh.close());
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  return { tmp, final };
}

/** Temp files (`.<name>.tmp-<pid>-<hex>`) of deliveries whose process is gone. */
async function removeStaleTempFiles(dir: string, env: LockEnv = PROCESS_LOCK_ENV): Promise<void> {
  for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
    const pid = /^\..+\.tmp-(\d+)-[0-9a-f]{8}$/.exec(name)?.[1];
    if (pid !== undefined && !env.isAlive(Number(pid))) await fsp.rm(join(dir, name), { force: true });
  }
}

/** Artifacts the gate judged together (those of one SBOM): the decision and the signed evidence about them. */
export interface JudgedArtifacts {
  readonly subjects: readonly { readonly name: string }[];
  readonly decision: PolicyDecision;
  readonly evidence: EvidenceBytes;
}

/**
 * Keeps a blocked build's evidence in `dir` (to read, not to deploy) and returns the error that says what blocked
 * it: every violation, under the artifacts it is about when the build judged several sets of them. An earlier
 * build's delivery of the same files stays in `outputDir`: the message says so, so nobody takes it for this build's.
 */
export async function blockedBuild(
  kept: { readonly buildId: string; readonly dir: string; readonly outputDir: string; readonly project: string },
  judged: readonly JudgedArtifacts[],
): Promise<KilnError> {
  const lines = [];
  for (const { subjects, decision, evidence } of judged) {
    const first = subjects[0]?.name ?? kept.project;
    for (const e of EVIDENCE) await writeFileAtomic(join(kept.dir, `${first}${e.suffix}`), evidence[e.kind]);
    if (judged.length === 1) lines.push(...decision.violations.map((v) => `  ${v.message}`));
    else if (decision.violations.length > 0) {
      lines.push(`  ${subjects.map((s) => s.name).join(', ')}:`, ...decision.violations.map((v) => `    ${v.message}`));
    }
  }
  const subjects = judged.flatMap((j) => j.subjects);
  const violations = judged.flatMap((j) => j.decision.violations);
  const stale = [];
  for (const s of subjects) if (await pathExists(join(kept.outputDir, s.name))) stale.push(s.name);
  if (stale.length > 0) {
    lines.push(`  (${stale.join(', ')} in ${kept.outputDir} is from an earlier build, not this one)`);
  }
  return new KilnError(
    'KILN_POLICY_BLOCKED',
    `the policy blocked ${subjects.map((s) => s.name).join(', ')} (${violations.length} violation(s)); nothing was published:\n${lines.join('\n')}`,
    {
      hint: `${blockedHint(violations)}; the signed scan and decision are in ${kept.dir}`,
      details: { buildId: kept.buildId, violations, evidenceDir: kept.dir },
    },
  );
}
