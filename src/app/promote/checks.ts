// The checks a promotion must pass before anything is copied: the evidence verifies with the trusted key, the
// environment's predecessor got it first, and today's policy (today's vulnerability data) still passes it.
import { promises as fsp } from 'node:fs';
import { bundlePredicate } from '../../attest/bundle.js';
import { evidencePaths } from '../../attest/evidence.js';
import { isolationInProvenance, verifyBundle } from '../../attest/index.js';
import type { Digest } from '../../core/digest.js';
import { KilnError } from '../../core/errors.js';
import { isoSeconds } from '../../core/time.js';
import { blockedHint, decide } from '../../policy/gate.js';
import { readVexDocuments, scanBom } from '../../scan/database.js';
import { promotionsOf, type Store } from '../../store/index.js';
import { signatureVerified, verifyEvidenceSet } from '../verify.js';
import type { PromoteInput } from './types.js';

/** Provenance and the required evidence (SBOM, scan, a PASSED decision) verify with the trusted key. */
export async function assertVerified(input: PromoteInput, artifact: string, from: string): Promise<void> {
  const paths = evidencePaths(artifact);
  const bundleJson = await fsp.readFile(paths.provenance, 'utf8').catch(() => '');
  const report = await verifyBundle({ bundleJson, artifact: { path: artifact }, publicKeyPem: input.trustedKeyPem });
  input.emit(signatureVerified('promote', from, 'provenance', report.checks));
  const keys = { publicKeyPem: input.trustedKeyPem };
  const evidence = { artifact, require: ['sbom', 'vulns', 'policy'], keys };
  const more = await verifyEvidenceSet(evidence, input.emit, { context: 'promote', subject: from });
  const failed = [...report.checks, ...more].filter((c) => !c.ok);
  if (failed.length > 0) {
    throw new KilnError(
      'KILN_VERIFY_FAILED',
      `promotion refused: ${from} does not verify:\n${failed.map((c) => `  ✗ ${c.check}: ${c.message}`).join('\n')}`,
      { hint: 'promote only what Kiln built and published, with its evidence, signed by the trusted key (--key)' },
    );
  }
}

export async function assertPromotedBefore(store: Store, digest: Digest, after: string, from: string, env: string) {
  const history = await promotionsOf(store, digest);
  if (history.some((p) => p.environment === after)) return;
  throw new KilnError('KILN_VERIFY_FAILED', `promotion refused: ${from} was never promoted to ${after}`, {
    hint: `environment ${env} comes after ${after} (kiln.yaml environments.${env}.after): kiln promote ${from} --to ${after} first`,
  });
}

/** The signed SBOM scanned against today's data and judged by today's policy, as the gate does at build time. */
export async function assertPolicyPasses(input: PromoteInput, artifact: string, from: string): Promise<void> {
  const paths = evidencePaths(artifact);
  const sbom = bundlePredicate(await fsp.readFile(paths['sbom-attestation'], 'utf8'));
  const provenance = bundlePredicate(await fsp.readFile(paths.provenance, 'utf8'));
  const [scan, vex] = await Promise.all([
    scanBom(input.store, sbom, `the SBOM of ${from}`),
    readVexDocuments(input.policy, input.readProjectFile),
  ]);
  const { isolation, why } = isolationInProvenance(provenance);
  const decision = decide({
    policy: input.policy,
    scan: scan.result,
    graph: scan.graph,
    vex,
    today: isoSeconds(input.now()).slice(0, 10),
    evidence: {
      sbom: true,
      signed: true,
      hermetic: { ok: isolation.hermetic, why },
      vulnerabilityRecords: scan.database.records,
    },
  });
  for (const message of decision.warnings) input.emit({ kind: 'warning', message });
  if (decision.verdict === 'block') {
    const lines = decision.violations.map((v) => `  ${v.message}`).join('\n');
    throw new KilnError('KILN_POLICY_BLOCKED', `promotion refused: today's policy blocks ${from}:\n${lines}`, {
      hint: blockedHint(decision.violations),
      details: { violations: decision.violations },
    });
  }
}
