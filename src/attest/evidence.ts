// The evidence every artifact carries: one table for its file names, OCI media types, predicates and store kinds.
import { SIGSTORE_BUNDLE_V03 } from './bundle.js';
import {
  CYCLONEDX_PREDICATE,
  SLSA_PROVENANCE_V1,
  SPDX_PREDICATE,
  VSA_PREDICATE,
  VULNS_PREDICATE,
} from './statement.js';

/** Media type of a CycloneDX JSON document. */
export const CYCLONEDX_JSON = 'application/vnd.cyclonedx+json';
/** Media type of an SPDX JSON document. */
export const SPDX_JSON = 'application/spdx+json';

/** One kind of evidence, as files, manifests and the store name it. */
export type EvidenceKind =
  | 'provenance'
  | 'sbom'
  | 'sbom-attestation'
  | 'spdx'
  | 'spdx-attestation'
  | 'vulns-attestation'
  | 'policy-attestation';

/** How one kind of evidence is delivered: beside the artifact as `<artifact><suffix>`, and as an OCI referrer. */
export interface EvidenceSpec {
  readonly kind: EvidenceKind;
  readonly suffix: string;
  readonly mediaType: string;
  readonly predicateType: string;
}

/** Every kind, in the order files are written (all before the artifact itself) and manifests attached. */
export const EVIDENCE: readonly EvidenceSpec[] = Object.freeze([
  { kind: 'provenance', suffix: '.sigstore.json', mediaType: SIGSTORE_BUNDLE_V03, predicateType: SLSA_PROVENANCE_V1 },
  { kind: 'sbom', suffix: '.cdx.json', mediaType: CYCLONEDX_JSON, predicateType: CYCLONEDX_PREDICATE },
  {
    kind: 'sbom-attestation',
    suffix: '.cdx.sigstore.json',
    mediaType: SIGSTORE_BUNDLE_V03,
    predicateType: CYCLONEDX_PREDICATE,
  },
  { kind: 'spdx', suffix: '.spdx.json', mediaType: SPDX_JSON, predicateType: SPDX_PREDICATE },
  {
    kind: 'spdx-attestation',
    suffix: '.spdx.sigstore.json',
    mediaType: SIGSTORE_BUNDLE_V03,
    predicateType: SPDX_PREDICATE,
  },
  {
    kind: 'vulns-attestation',
    suffix: '.vulns.sigstore.json',
    mediaType: SIGSTORE_BUNDLE_V03,
    predicateType: VULNS_PREDICATE,
  },
  {
    kind: 'policy-attestation',
    suffix: '.policy.sigstore.json',
    mediaType: SIGSTORE_BUNDLE_V03,
    predicateType: VSA_PREDICATE,
  },
]);

/** The bytes of every kind of evidence of one build. */
export type EvidenceBytes = Readonly<Record<EvidenceKind, Buffer>>;

/** Paths of every kind of evidence of one delivered artifact. */
export type EvidencePaths = Readonly<Record<EvidenceKind, string>>;

/** The paths `<artifact><suffix>` of each kind. */
export function evidencePaths(artifactPath: string): EvidencePaths {
  return Object.fromEntries(EVIDENCE.map((e) => [e.kind, `${artifactPath}${e.suffix}`])) as EvidencePaths;
}
