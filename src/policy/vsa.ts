// The gate's decision as a SLSA verification summary (https://slsa.dev/spec/v1.0/verification_summary).
import type { Digest } from '../core/digest.js';
import { digestHex } from '../core/digest.js';
import { deepFreeze } from '../core/json.js';
import type { PolicyDecision } from './gate.js';

/** Who verified: Kiln's policy gate at build time. */
export const KILN_VERIFIER_ID = 'https://kiln.dev/verifiers/build-gate/v1';

/**
 * The VSA predicate: PASSED with the SLSA build level the build reached (L1: provenance exists; Kiln's local
 * builder claims no more), or FAILED. The inputs are the evidence files it judged, by digest.
 */
export function vsaPredicate(input: {
  kilnVersion: string;
  timeVerified: string;
  resourceUri: string;
  policy: { uri: string; digest: Digest };
  inputAttestations: readonly { uri: string; digest: Digest }[];
  decision: PolicyDecision;
}) {
  const passed = input.decision.verdict === 'pass';
  return deepFreeze({
    verifier: { id: KILN_VERIFIER_ID, version: { kiln: input.kilnVersion } },
    timeVerified: input.timeVerified,
    resourceUri: input.resourceUri,
    policy: { uri: input.policy.uri, digest: { sha256: digestHex(input.policy.digest) } },
    inputAttestations: input.inputAttestations.map((a) => ({ uri: a.uri, digest: { sha256: digestHex(a.digest) } })),
    verificationResult: passed ? 'PASSED' : 'FAILED',
    verifiedLevels: passed ? ['SLSA_BUILD_LEVEL_1'] : ['FAILED'],
    slsaVersion: '1.0',
  });
}
