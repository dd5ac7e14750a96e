// The attest and gate stages of a build: provenance and both SBOMs signed, the policy's decision over the scan, then
// the scan and the decision signed (a vulns attestation and a SLSA verification summary).
import { bundleBytes, signStatement } from '../../attest/bundle.js';
import { type DsseEnvelope, dsseSignedBy } from '../../attest/dsse.js';
import { EVIDENCE, type EvidenceBytes } from '../../attest/evidence.js';
import { type BuildIsolation, type ProvenanceInput, provenancePredicate } from '../../attest/provenance.js';
import type { Signer } from '../../attest/signer.js';
import {
  CYCLONEDX_PREDICATE,
  makeStatement,
  SLSA_PROVENANCE_V1,
  SPDX_PREDICATE,
  VSA_PREDICATE,
  VULNS_PREDICATE,
} from '../../attest/statement.js';
import type { PolicyConfig } from '../../config/index.js';
import { type Digest, sha256Digest } from '../../core/digest.js';
import { canonicalJson } from '../../core/json.js';
import { isoSeconds } from '../../core/time.js';
import { decide, type PolicyDecision } from '../../policy/gate.js';
import { vsaPredicate } from '../../policy/vsa.js';
import type { BuildSbom } from '../../sbom/make.js';
import type { BuildScan } from '../../scan/database.js';
import { vulnsPredicate } from '../../scan/vulns-predicate.js';

/** The statements a build signs before the gate: about these subjects, with this key. */
export interface AttestInput {
  readonly subjects: readonly { readonly name: string; readonly digest: Digest }[];
  readonly signer: Signer;
  readonly provenance: ProvenanceInput;
  readonly sbom: Pick<BuildSbom, 'bom' | 'spdx'>;
}

/** What the gate judges besides the scan: the policy, the day, and how the steps ran. */
export interface GateInput {
  readonly policy: PolicyConfig;
  readonly scan: BuildScan;
  readonly today: string;
  /** How isolated the steps were, as provenance records it. */
  readonly isolation: BuildIsolation;
  /** Why the build is not hermetic ('' when it is). */
  readonly notHermetic: string;
}

/** The signed provenance and SBOM attestations, and their envelopes (to check the signer's signatures). */
export interface SignedStatements {
  readonly provenance: Buffer;
  readonly 'sbom-attestation': Buffer;
  readonly 'spdx-attestation': Buffer;
  readonly envelopes: readonly DsseEnvelope[];
}

/** Signs provenance and both SBOMs. */
export async function signStatements(input: AttestInput): Promise<SignedStatements> {
  const envelopes: DsseEnvelope[] = [];
  const sign = signer(input, envelopes);
  return {
    provenance: await sign(SLSA_PROVENANCE_V1, provenancePredicate(input.provenance)),
    'sbom-attestation': await sign(CYCLONEDX_PREDICATE, input.sbom.bom),
    'spdx-attestation': await sign(SPDX_PREDICATE, input.sbom.spdx.doc),
    envelopes,
  };
}

/** The policy's decision; the evidence it requires includes valid signatures by the key (a KMS could return bad ones). */
export function judge(gate: GateInput, signed: SignedStatements, key: Signer, sbomBytes: number): PolicyDecision {
  return decide({
    policy: gate.policy,
    scan: gate.scan.result,
    graph: gate.scan.graph,
    vex: gate.scan.vex,
    today: gate.today,
    evidence: {
      sbom: sbomBytes > 0,
      signed: signed.envelopes.every((e) => dsseSignedBy(e, key.publicKeyPem)),
      hermetic: { ok: gate.isolation.hermetic, why: gate.notHermetic },
      vulnerabilityRecords: gate.scan.database.records,
    },
  });
}

/** Signs the scan (with what the decision waived) and the decision over the evidence signed before it. */
export async function signVerdict(
  input: AttestInput,
  verdict: {
    readonly decision: PolicyDecision;
    readonly scan: BuildScan;
    readonly policy: PolicyConfig;
    readonly kilnVersion: string;
    readonly startedAt: Date;
    readonly finishedAt: Date;
    readonly resourceUri: string;
  },
  signed: SignedStatements,
  sbom: Pick<BuildSbom, 'bytes' | 'spdx'>,
): Promise<EvidenceBytes> {
  const sign = signer(input, []);
  const finished = isoSeconds(verdict.finishedAt);
  const { decision, scan } = verdict;
  const waived = new Map(decision.waived.map((w) => [`${w.id} ${w.component}`, w]));
  const vulns = await sign(
    VULNS_PREDICATE,
    vulnsPredicate({
      kilnVersion: verdict.kilnVersion,
      scan: scan.result,
      database: scan.database,
      startedOn: isoSeconds(verdict.startedAt),
      finishedOn: finished,
      waived,
    }),
  );
  const judged: Partial<Record<string, Buffer>> = {
    provenance: signed.provenance,
    'sbom-attestation': signed['sbom-attestation'],
    'spdx-attestation': signed['spdx-attestation'],
    'vulns-attestation': vulns,
  };
  const first = input.subjects[0]?.name ?? '';
  const policy = await sign(
    VSA_PREDICATE,
    vsaPredicate({
      kilnVersion: verdict.kilnVersion,
      timeVerified: finished,
      resourceUri: verdict.resourceUri,
      policy: { uri: 'kiln.yaml#policy', digest: sha256Digest(canonicalJson(verdict.policy)) },
      inputAttestations: EVIDENCE.flatMap((e) => {
        const bytes = judged[e.kind];
        return bytes ? [{ uri: `${first}${e.suffix}`, digest: sha256Digest(bytes) }] : [];
      }),
      decision,
    }),
  );
  return {
    provenance: signed.provenance,
    sbom: sbom.bytes,
    'sbom-attestation': signed['sbom-attestation'],
    spdx: sbom.spdx.bytes,
    'spdx-attestation': signed['spdx-attestation'],
    'vulns-attestation': vulns,
    'policy-attestation': policy,
  };
}

/** Signs one statement about the input's subjects as bundle bytes, keeping its envelope in `envelopes`. */
function signer(input: AttestInput, envelopes: DsseEnvelope[]) {
  return async (predicateType: string, predicate: unknown) => {
    const bundle = await signStatement(makeStatement([...input.subjects], predicateType, predicate), input.signer);
    envelopes.push(bundle.dsseEnvelope);
    return bundleBytes(bundle);
  };
}
