// Public API of the attest stage: statements, provenance, DSSE, signers, bundles, verification.
export {
  bundleBytes,
  bundlePredicate,
  makeBundle,
  SIGSTORE_BUNDLE_V03,
  type SigstoreBundle,
  signStatement,
} from './bundle.js';
export { type DsseEnvelope, pae, signDsse } from './dsse.js';
export { writeKeyPair } from './keyfile.js';
export { generateKeyPair, type KeyAlgorithm, keyHint, loadPublicKey, type PublicKey } from './keys.js';
export {
  type BuildIsolation,
  type BuildWorker,
  buildIsolation,
  CONTROL_PLANE_BUILDER_ID,
  isolationInProvenance,
  KILN_BUILD_TYPE,
  LOCAL_BUILDER_ID,
  notHermeticBecause,
  type ProvenanceInput,
  type ProvenancePredicate,
  provenancePredicate,
  type ResourceDescriptor,
} from './provenance.js';
export { fail, pass, toReport, type VerifyCheck, type VerifyCheckName, type VerifyReport } from './report.js';
export { loadSigner, type Signer } from './signer.js';
export {
  CYCLONEDX_PREDICATE,
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_V1,
  makeStatement,
  SLSA_PROVENANCE_V1,
  type Statement,
  type StatementSubject,
  statementBytes,
} from './statement.js';
export { type VerifyBundleOptions, verifyBundle } from './verify.js';
export type { VerifyExpectations } from './verify-statement.js';
