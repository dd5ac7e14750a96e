// `kiln verify` for one artifact and one bundle: sigstore checks the signature, Kiln checks what was signed.
import { readFile } from 'node:fs/promises';
import type { Bundle } from '@sigstore/bundle';
import { HashAlgorithm } from '@sigstore/protobuf-specs';
import { type Digest, sha256File } from '../core/digest.js';
import { fail, pass, toReport, type VerifyCheck, type VerifyReport } from './report.js';
import { IN_TOTO_PAYLOAD_TYPE, SLSA_PROVENANCE_V1 } from './statement.js';
import { checkPublicKey, checkSignature, checkTrustedRoot, parseBundle } from './verify-signature.js';
import { checkPredicate, checkSubject, parseStatement, type VerifyExpectations } from './verify-statement.js';

/** Inputs of one verification: the bundle text, the artifact on disk, the trusted key, and what to expect. */
export interface VerifyBundleOptions {
  bundleJson: string;
  artifact: { path: string };
  publicKeyPem?: string;
  trustedRootJson?: string;
  expect?: VerifyExpectations;
}

/** Verifies a bundle against an artifact; never throws for bad input, every problem is a failed check. */
export async function verifyBundle(opts: VerifyBundleOptions): Promise<VerifyReport> {
  const checks: VerifyCheck[] = [];
  const parsed = parseBundle(opts.bundleJson);
  checks.push(...parsed.checks);
  const { bundle } = parsed;
  if (!bundle || parsed.hint === undefined) return toReport(checks);

  const { key, check: keyCheck } = checkPublicKey(opts.publicKeyPem, parsed.hint);
  const { root, check: rootCheck } = checkTrustedRoot(opts.trustedRootJson);
  checks.push(keyCheck, rootCheck);
  if (!key || !root) return toReport(checks);

  const content = bundle.content;
  let artifactBytes: Buffer | undefined;
  if (content.$case === 'messageSignature') {
    try {
      artifactBytes = await readFile(opts.artifact.path);
    } catch (err) {
      checks.push(fail('signature', 'cannot read artifact', `readable file ${opts.artifact.path}`, errorText(err)));
      return toReport(checks);
    }
  }
  const sigCheck = checkSignature(bundle, key, root, artifactBytes);
  checks.push(sigCheck);
  if (!sigCheck.ok) return toReport(checks);

  let digest: Digest;
  try {
    digest = (await sha256File(opts.artifact.path)).digest;
  } catch (err) {
    checks.push(fail('subject-digest', 'cannot read artifact', `readable file ${opts.artifact.path}`, errorText(err)));
    return toReport(checks);
  }
  const expect = opts.expect ?? {};
  switch (content.$case) {
    case 'dsseEnvelope':
      checks.push(...checkDsse(content.dsseEnvelope, digest, expect));
      break;
    case 'messageSignature':
      checks.push(...checkMessage(content.messageSignature, digest, expect));
      break;
  }
  return toReport(checks);
}

type DsseContent = Extract<Bundle['content'], { $case: 'dsseEnvelope' }>['dsseEnvelope'];
type MessageContent = Extract<Bundle['content'], { $case: 'messageSignature' }>['messageSignature'];

function checkDsse(envelope: DsseContent, digest: Digest, expect: VerifyExpectations): VerifyCheck[] {
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    return [
      fail('payload-type', 'DSSE payload is not an in-toto statement', IN_TOTO_PAYLOAD_TYPE, envelope.payloadType),
    ];
  }
  const checks = [pass('payload-type', `payload type is ${IN_TOTO_PAYLOAD_TYPE}`, envelope.payloadType)];
  const { statement, check } = parseStatement(envelope.payload);
  checks.push(check);
  if (!statement) return checks;
  const subjects = statement.subject.map((s) => ({ name: s.name, sha256: s.digest.sha256 }));
  checks.push(checkSubject(subjects, digest));
  checks.push(...checkPredicate(statement, expect));
  return checks;
}

// A message signature signs the artifact bytes themselves: there is no statement, so nothing says what the signer
// claims about the artifact. Kiln's evidence is always a signed statement with a predicate type, so such a bundle is
// refused whatever else is expected: "signed by this key" alone is not provenance.
function checkMessage(message: MessageContent, digest: Digest, expect: VerifyExpectations): VerifyCheck[] {
  const md = message.messageDigest;
  const actual =
    md && md.algorithm === HashAlgorithm.SHA2_256 ? `sha256:${Buffer.from(md.digest).toString('hex')}` : 'no sha256';
  const why = 'a plain message signature (no in-toto statement)';
  const checks = [
    actual === digest
      ? pass('subject-digest', `message digest matches artifact ${digest}`, actual)
      : fail('subject-digest', 'message digest does not match the artifact', digest, actual),
    fail(
      'predicate-type',
      'the bundle signs the artifact bytes but states nothing about them: no predicate to check',
      expect.predicateType ?? SLSA_PROVENANCE_V1,
      why,
    ),
  ];
  if (expect.builderId !== undefined) checks.push(fail('builder-id', 'no provenance', expect.builderId, why));
  if (expect.sourceCommit !== undefined) checks.push(fail('source-commit', 'no provenance', expect.sourceCommit, why));
  if (expect.sourceRepo !== undefined) checks.push(fail('source-repo', 'no provenance', expect.sourceRepo, why));
  return checks;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
