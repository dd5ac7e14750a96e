import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertBundle, bundleFromJSON, bundleToJSON } from '@sigstore/bundle';
import { describe, expect, it } from 'vitest';
import {
  CONTROL_PLANE_BUILDER_ID,
  CYCLONEDX_PREDICATE,
  IN_TOTO_PAYLOAD_TYPE,
  LOCAL_BUILDER_ID,
  makeBundle,
  makeStatement,
  pae,
  SIGSTORE_BUNDLE_V03,
  SLSA_PROVENANCE_V1,
  signDsse,
  signStatement,
  statementBytes,
  type VerifyReport,
  verifyBundle,
} from '../../../src/attest/index.js';
import { sha256Digest } from '../../../src/core/digest.js';
import { COMMIT, newSigner, provenanceInput, REPO, signedArtifact, VECTORS } from '../../helpers/attest.js';

/** The one failed check of a report, asserting the report failed because of it. */
function failed(report: VerifyReport, check: string) {
  expect(report.ok).toBe(false);
  const c = report.checks.find((x) => !x.ok);
  expect(c?.check).toBe(check);
  expect(c?.message).toContain(`expected ${c?.expected}`);
  expect(c?.message).toContain(`got ${c?.actual}`);
  return c as NonNullable<typeof c>;
}

describe('sign → bundle → verify', () => {
  for (const alg of ['ecdsa-p256', 'ed25519'] as const) {
    it(`round-trips with ${alg} and passes every check`, async () => {
      const { artifactPath, signer, bundle, bundleJson } = await signedArtifact(alg);
      expect(bundle.mediaType).toBe(SIGSTORE_BUNDLE_V03);
      expect(bundle.verificationMaterial.publicKey.hint).toBe(signer.keyHint);
      const parsed = bundleFromJSON(JSON.parse(bundleJson));
      assertBundle(parsed);
      expect(parsed.content.$case).toBe('dsseEnvelope');
      expect(parsed.verificationMaterial.content).toEqual({ $case: 'publicKey', publicKey: { hint: signer.keyHint } });
      // bundleToJSON omits proto3 defaults (keyid "", empty lists); what it writes must parse back the same.
      expect(bundleFromJSON(bundleToJSON(parsed))).toEqual(parsed);
      const report = await verifyBundle({
        bundleJson,
        artifact: { path: artifactPath },
        publicKeyPem: signer.publicKeyPem,
        expect: { builderId: LOCAL_BUILDER_ID, sourceCommit: COMMIT.toUpperCase(), sourceRepo: `${REPO}.git` },
      });
      expect(report.checks.filter((c) => !c.ok)).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.checks.map((c) => c.check)).toEqual([
        'signature-count',
        'bundle',
        'public-key',
        'trusted-root',
        'signature',
        'payload-type',
        'statement',
        'subject-digest',
        'predicate-type',
        'builder-id',
        'source-commit',
        'source-repo',
      ]);
    });
  }

  it('verifies an SBOM statement when told to expect its predicate type', async () => {
    const { artifactPath, signer } = await signedArtifact('ed25519');
    const digest = sha256Digest(await readFile(artifactPath));
    const bundle = await signStatement(makeStatement([{ name: 'x', digest }], CYCLONEDX_PREDICATE, {}), signer);
    const opts = {
      bundleJson: JSON.stringify(bundle),
      artifact: { path: artifactPath },
      publicKeyPem: signer.publicKeyPem,
    };
    expect((await verifyBundle({ ...opts, expect: { predicateType: CYCLONEDX_PREDICATE } })).ok).toBe(true);
    const c = failed(await verifyBundle(opts), 'predicate-type');
    expect(c.expected).toBe(SLSA_PROVENANCE_V1);
    expect(c.actual).toBe(CYCLONEDX_PREDICATE);
    const b = failed(
      await verifyBundle({ ...opts, expect: { predicateType: CYCLONEDX_PREDICATE, builderId: 'x' } }),
      'builder-id',
    );
    expect(b.actual).toContain('no provenance');
  });
});

describe('verify rejects', () => {
  it('an artifact with one flipped byte', async () => {
    const { artifactPath, signer, bundleJson } = await signedArtifact('ecdsa-p256');
    const bytes = await readFile(artifactPath);
    bytes[7] = (bytes[7] ?? 0) ^ 0x01;
    await writeFile(artifactPath, bytes);
    const r = await verifyBundle({ bundleJson, artifact: { path: artifactPath }, publicKeyPem: signer.publicKeyPem });
    const c = failed(r, 'subject-digest');
    expect(c.expected).toBe(sha256Digest(bytes));
    expect(c.actual).toContain(sha256Digest(Buffer.from('kiln artifact bytes\n'.repeat(100))));
  });

  it('a statement changed after signing', async () => {
    const { artifactPath, signer, bundle } = await signedArtifact('ed25519');
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
    statement.predicate.runDetails.builder.id = CONTROL_PLANE_BUILDER_ID;
    const tampered = {
      ...bundle,
      dsseEnvelope: { ...bundle.dsseEnvelope, payload: Buffer.from(JSON.stringify(statement)).toString('base64') },
    };
    const r = await verifyBundle({
      bundleJson: JSON.stringify(tampered),
      artifact: { path: artifactPath },
      publicKeyPem: signer.publicKeyPem,
    });
    expect(failed(r, 'signature').actual).toContain('SIGNATURE_ERROR');
  });

  it('a changed payloadType (it is covered by the PAE)', async () => {
    const { artifactPath, signer, bundle } = await signedArtifact('ecdsa-p256');
    const tampered = { ...bundle, dsseEnvelope: { ...bundle.dsseEnvelope, payloadType: 'application/json' } };
    const r = await verifyBundle({
      bundleJson: JSON.stringify(tampered),
      artifact: { path: artifactPath },
      publicKeyPem: signer.publicKeyPem,
    });
    failed(r, 'signature');
  });

  it('a different key than the signer', async () => {
    const { artifactPath, signer, bundleJson } = await signedArtifact('ecdsa-p256');
    const other = newSigner('ecdsa-p256');
    const r = await verifyBundle({ bundleJson, artifact: { path: artifactPath }, publicKeyPem: other.publicKeyPem });
    const c = failed(r, 'signature');
    expect(c.expected).toContain(other.keyHint);
    expect(c.actual).toContain(signer.keyHint);
  });

  it('a bundle whose hint was rewritten to name the verifier key', async () => {
    const { artifactPath, bundle } = await signedArtifact('ed25519');
    const other = newSigner('ed25519');
    const forged = makeBundle(bundle.dsseEnvelope, other.keyHint);
    const r = await verifyBundle({
      bundleJson: JSON.stringify(forged),
      artifact: { path: artifactPath },
      publicKeyPem: other.publicKeyPem,
    });
    expect(failed(r, 'signature').actual).toContain('SIGNATURE_ERROR');
  });

  it('an envelope with two signatures, or none', async () => {
    const { artifactPath, signer, bundle } = await signedArtifact('ecdsa-p256');
    const sig = bundle.dsseEnvelope.signatures[0];
    for (const signatures of [[sig, sig], []]) {
      const b = { ...bundle, dsseEnvelope: { ...bundle.dsseEnvelope, signatures } };
      const r = await verifyBundle({
        bundleJson: JSON.stringify(b),
        artifact: { path: artifactPath },
        publicKeyPem: signer.publicKeyPem,
      });
      const c = failed(r, 'signature-count');
      expect(c.expected).toBe('exactly 1 signature');
      expect(c.actual).toBe(String(signatures.length));
    }
  });

  it('provenance for another commit, a dirty tree, another repo, another builder', async () => {
    const other = 'f'.repeat(40);
    const { artifactPath, signer, bundleJson } = await signedArtifact('ed25519', provenanceInput());
    const base = { bundleJson, artifact: { path: artifactPath }, publicKeyPem: signer.publicKeyPem };
    const commit = failed(await verifyBundle({ ...base, expect: { sourceCommit: other } }), 'source-commit');
    expect([commit.expected, commit.actual]).toEqual([other, COMMIT]);
    const repo = failed(
      await verifyBundle({ ...base, expect: { sourceRepo: 'https://git.example.com/evil/app' } }),
      'source-repo',
    );
    expect(repo.actual).toBe(REPO);
    const builder = failed(
      await verifyBundle({ ...base, expect: { builderId: CONTROL_PLANE_BUILDER_ID } }),
      'builder-id',
    );
    expect([builder.expected, builder.actual]).toEqual([CONTROL_PLANE_BUILDER_ID, LOCAL_BUILDER_ID]);

    const dirtyInput = provenanceInput();
    dirtyInput.source = { ...dirtyInput.source, dirty: true };
    const dirty = await signedArtifact('ed25519', dirtyInput);
    const r = await verifyBundle({
      bundleJson: dirty.bundleJson,
      artifact: { path: dirty.artifactPath },
      publicKeyPem: dirty.signer.publicKeyPem,
      expect: { sourceCommit: COMMIT },
    });
    expect(failed(r, 'source-commit').actual).toContain('local changes');
  });

  it('a non-in-toto payload and a payload that is not a statement', async () => {
    const { artifactPath, signer } = await signedArtifact('ed25519');
    const pub = signer.publicKeyPem;
    const env = await signDsse(Buffer.from('{"x":1}'), 'application/json', signer);
    const r1 = await verifyBundle({
      bundleJson: JSON.stringify(makeBundle(env, signer.keyHint)),
      artifact: { path: artifactPath },
      publicKeyPem: pub,
    });
    expect(failed(r1, 'payload-type').expected).toBe(IN_TOTO_PAYLOAD_TYPE);
    const env2 = await signDsse(Buffer.from('{"_type":"x","subject":[]}'), IN_TOTO_PAYLOAD_TYPE, signer);
    const r2 = await verifyBundle({
      bundleJson: JSON.stringify(makeBundle(env2, signer.keyHint)),
      artifact: { path: artifactPath },
      publicKeyPem: pub,
    });
    expect(failed(r2, 'statement').actual).toMatch(/_type: .*; subject: /);
  });

  it('garbage, a missing key, a malformed key, a missing artifact — without throwing', async () => {
    const { artifactPath, signer, bundleJson } = await signedArtifact('ecdsa-p256');
    const pub = signer.publicKeyPem;
    failed(
      await verifyBundle({ bundleJson: '{"mediaType": ', artifact: { path: artifactPath }, publicKeyPem: pub }),
      'bundle',
    );
    failed(await verifyBundle({ bundleJson: '[]', artifact: { path: artifactPath }, publicKeyPem: pub }), 'bundle');
    failed(
      await verifyBundle({ bundleJson: '{"mediaType":"x"}', artifact: { path: artifactPath }, publicKeyPem: pub }),
      'bundle',
    );
    failed(await verifyBundle({ bundleJson, artifact: { path: artifactPath } }), 'public-key');
    failed(await verifyBundle({ bundleJson, artifact: { path: artifactPath }, publicKeyPem: 'nope' }), 'public-key');
    failed(
      await verifyBundle({ bundleJson, artifact: { path: artifactPath }, publicKeyPem: pub, trustedRootJson: '{' }),
      'trusted-root',
    );
    failed(
      await verifyBundle({ bundleJson, artifact: { path: join(artifactPath, 'missing') }, publicKeyPem: pub }),
      'subject-digest',
    );
  });

  it('a certificate-signed (keyless) bundle: Kiln trusts keys only', async () => {
    const dir = join(VECTORS, 'sigstore-conformance/bundle-verify/happy-path-v0.3');
    const r = await verifyBundle({
      bundleJson: await readFile(join(dir, 'bundle.sigstore.json'), 'utf8'),
      artifact: { path: join(dir, '../a.txt') },
      publicKeyPem: newSigner('ecdsa-p256').publicKeyPem,
    });
    expect(failed(r, 'bundle').actual).toContain('certificate');
  });
});

describe('signed bytes', () => {
  it('are the PAE of the canonical statement', async () => {
    const signer = newSigner('ed25519');
    const statement = makeStatement([{ name: 'a', digest: sha256Digest('a') }], SLSA_PROVENANCE_V1, { z: 1 });
    const bundle = await signStatement(statement, signer);
    expect(Buffer.from(bundle.dsseEnvelope.payload, 'base64').equals(statementBytes(statement))).toBe(true);
    expect(pae(IN_TOTO_PAYLOAD_TYPE, statementBytes(statement)).subarray(0, 38).toString()).toBe(
      'DSSEv1 28 application/vnd.in-toto+json',
    );
  });
});
