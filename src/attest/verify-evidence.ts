// `kiln verify --require sbom,vulns,policy`: the evidence beside an artifact, each bundle verified like provenance.
import { promises as fsp } from 'node:fs';
import { basename } from 'node:path';
import { sha256Digest } from '../core/digest.js';
import { isRecord } from '../core/json.js';
import { EVIDENCE, type EvidenceKind, evidencePaths } from './evidence.js';
import { bundlePredicate, fail, pass, type VerifyCheck, verifyBundle } from './index.js';

/** What `--require` accepts, and the evidence kind (signed bundle) each one names. */
export const REQUIRABLE: Readonly<Record<string, EvidenceKind>> = Object.freeze({
  sbom: 'sbom-attestation',
  spdx: 'spdx-attestation',
  vulns: 'vulns-attestation',
  policy: 'policy-attestation',
});

/**
 * Verifies each required bundle beside `artifact` (signature with the key, subject = the artifact, predicate type);
 * for `policy` also that the decision PASSED and that the evidence it judged is the evidence found here.
 */
export async function verifyRequiredEvidence(opts: {
  artifact: string;
  require: readonly string[];
  publicKeyPem?: string;
  trustedRootJson?: string;
}): Promise<VerifyCheck[]> {
  const paths = evidencePaths(opts.artifact);
  const checks: VerifyCheck[] = [];
  for (const name of opts.require) {
    const kind = REQUIRABLE[name];
    const spec = EVIDENCE.find((e) => e.kind === kind);
    if (!kind || !spec) continue; // names are checked by the caller (app/verify.ts)
    const bundleJson = await fsp.readFile(paths[kind], 'utf8').catch(() => undefined);
    if (bundleJson === undefined) {
      checks.push(fail('evidence', `required ${name} evidence is missing`, paths[kind], 'no such file'));
      continue;
    }
    const report = await verifyBundle({
      bundleJson,
      artifact: { path: opts.artifact },
      ...(opts.publicKeyPem === undefined ? {} : { publicKeyPem: opts.publicKeyPem }),
      ...(opts.trustedRootJson === undefined ? {} : { trustedRootJson: opts.trustedRootJson }),
      expect: { predicateType: spec.predicateType },
    });
    const failed = report.checks.find((c) => !c.ok);
    if (failed) {
      checks.push({ ...failed, check: 'evidence', message: `${name} (${basename(paths[kind])}): ${failed.message}` });
      continue;
    }
    checks.push(pass('evidence', `${name}: ${basename(paths[kind])} is signed by the key and names the artifact`));
    if (name === 'policy') checks.push(...(await checkDecision(bundleJson, opts.artifact)));
  }
  return checks;
}

/**
 * The VSA's result, and that each attestation it judged is the file of that kind beside `artifact`. Inputs are
 * named `<first artifact><suffix>`, and every artifact of a build carries the same evidence bytes: the suffix
 * says which file to compare, whichever artifact is verified. A judged file that is not here is not compared.
 */
async function checkDecision(bundleJson: string, artifact: string): Promise<VerifyCheck[]> {
  const signed = bundlePredicate(bundleJson); // verified by the caller
  const predicate = isRecord(signed) ? signed : {};
  const result = String(predicate.verificationResult);
  const checks = [
    result === 'PASSED'
      ? pass('policy-result', 'the policy decision is PASSED', result)
      : fail('policy-result', 'the policy did not pass this artifact', 'PASSED', result),
  ];
  const paths = evidencePaths(artifact);
  const bySuffix = [...EVIDENCE].sort((a, b) => b.suffix.length - a.suffix.length); // `.cdx.sigstore.json` first
  const inputs = Array.isArray(predicate.inputAttestations) ? predicate.inputAttestations : [];
  for (const input of inputs) {
    if (!isRecord(input) || typeof input.uri !== 'string' || !isRecord(input.digest)) continue;
    const uri = input.uri;
    const kind = bySuffix.find((e) => uri.endsWith(e.suffix))?.kind;
    if (!kind) continue;
    const bytes = await fsp.readFile(paths[kind]).catch(() => undefined);
    if (!bytes) continue;
    const actual = sha256Digest(bytes).slice(7);
    if (actual !== input.digest.sha256) {
      const file = basename(paths[kind]);
      checks.push(
        fail('policy-result', `${file} is not the file the policy judged`, String(input.digest.sha256), actual),
      );
    }
  }
  return checks;
}
