// The deliver stage: artifacts and their evidence into the kiln.yaml `output` directory, evidence first, so whoever
// sees an artifact also finds its evidence. A blocked build's evidence goes to its build directory instead.
import { join } from 'node:path';
import { EVIDENCE, type EvidenceBytes, type EvidencePaths, evidencePaths } from '../../attest/evidence.js';
import type { Digest } from '../../core/digest.js';
import { KilnError } from '../../core/errors.js';
import { copyFileArtifact } from '../../package/index.js';
import { pathExists, writeFileAtomic } from '../../platform/fsutil.js';
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

/** A packed artifact ready to deliver: where it is, what it is, and where it was published. */
export interface Deliverable {
  readonly name: string;
  readonly file: string;
  /** The delivered file name. */
  readonly title: string;
  readonly digest: Digest;
  readonly size: number;
  readonly published: PublishedArtifact;
}

/** Writes each artifact's evidence and then the artifact into `outputDir`, atomically and durably. */
export async function deliverFiles(
  outputDir: string,
  artifacts: readonly Deliverable[],
  evidence: EvidenceBytes,
): Promise<DeliveredArtifact[]> {
  const delivered: DeliveredArtifact[] = [];
  for (const a of artifacts) {
    const target = join(outputDir, a.title);
    const paths = evidencePaths(target);
    for (const e of EVIDENCE) await writeFileAtomic(paths[e.kind], evidence[e.kind]);
    await copyFileArtifact(a.file, target);
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

/**
 * Keeps a blocked build's evidence in `dir` (to read, not to deploy) and returns the error that says what blocked
 * it. An earlier build's delivery of the same files stays in `outputDir`: the message says so, so nobody takes it for
 * this build's.
 */
export async function blockedBuild(
  decision: PolicyDecision,
  kept: { readonly buildId: string; readonly dir: string; readonly outputDir: string; readonly project: string },
  subjects: readonly { readonly name: string }[],
  evidence: EvidenceBytes,
): Promise<KilnError> {
  const first = subjects[0]?.name ?? kept.project;
  for (const e of EVIDENCE) await writeFileAtomic(join(kept.dir, `${first}${e.suffix}`), evidence[e.kind]);
  const lines = decision.violations.map((v) => `  ${v.message}`);
  const stale = [];
  for (const s of subjects) if (await pathExists(join(kept.outputDir, s.name))) stale.push(s.name);
  if (stale.length > 0) {
    lines.push(`  (${stale.join(', ')} in ${kept.outputDir} is from an earlier build, not this one)`);
  }
  return new KilnError(
    'KILN_POLICY_BLOCKED',
    `the policy blocked ${subjects.map((s) => s.name).join(', ')} (${decision.violations.length} violation(s)); nothing was published:\n${lines.join('\n')}`,
    {
      hint: `${blockedHint(decision.violations)}; the signed scan and decision are in ${kept.dir}`,
      details: { buildId: kept.buildId, violations: decision.violations, evidenceDir: kept.dir },
    },
  );
}
