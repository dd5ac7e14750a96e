// in-toto Statement v1: which artifacts (by digest) a predicate speaks about.
import { type Digest, digestHex, isDigest } from '../core/digest.js';
import { canonicalJson, deepFreeze } from '../core/json.js';

/** The in-toto Statement v1 `_type`. */
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
/** The DSSE payloadType for in-toto statements. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** predicateType of SLSA provenance v1. */
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** predicateType of a CycloneDX SBOM. */
export const CYCLONEDX_PREDICATE = 'https://cyclonedx.org/bom';
/** predicateType of an SPDX 2.3 document attestation. */
export const SPDX_PREDICATE = 'https://spdx.dev/Document';
/** predicateType of a vulnerability scan result. */
export const VULNS_PREDICATE = 'https://in-toto.io/attestation/vulns/v0.2';
/** predicateType of a SLSA verification summary (the policy gate's decision). */
export const VSA_PREDICATE = 'https://slsa.dev/verification_summary/v1';

/** One attested artifact: a name and its sha256. */
export interface StatementSubject {
  readonly name: string;
  readonly digest: { readonly sha256: string };
}

/** A frozen in-toto Statement v1. */
export interface Statement<P = unknown> {
  readonly _type: typeof IN_TOTO_STATEMENT_V1;
  readonly subject: readonly StatementSubject[];
  readonly predicateType: string;
  readonly predicate: P;
}

/** Builds a Statement; subjects are sorted by name so the same inputs always give the same bytes. */
export function makeStatement<P>(
  subjects: readonly { name: string; digest: Digest }[],
  predicateType: string,
  predicate: P,
): Statement<P> {
  if (subjects.length === 0) throw new Error('makeStatement: a statement needs at least one subject');
  for (const s of subjects) {
    if (!isDigest(s.digest)) throw new Error(`makeStatement: subject ${s.name} has malformed digest "${s.digest}"`);
  }
  const subject = [...subjects]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((s) => ({ name: s.name, digest: { sha256: digestHex(s.digest) } }));
  return deepFreeze({ _type: IN_TOTO_STATEMENT_V1, subject, predicateType, predicate: structuredClone(predicate) });
}

/** The canonical JSON bytes of a statement: the DSSE payload that gets signed. */
export function statementBytes(statement: Statement): Buffer {
  return Buffer.from(canonicalJson(statement), 'utf8');
}
