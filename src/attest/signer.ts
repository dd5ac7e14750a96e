// The one signing seam: file keys today, KMS-backed signers later, all behind `Signer.sign`.
import { sign as cryptoSign } from 'node:crypto';
import { type KeyAlgorithm, keyHint, loadPrivateKey, publicPemOf } from './keys.js';

/** Signs bytes with one key; implementations may be local files or remote KMS, callers cannot tell. */
export interface Signer {
  readonly algorithm: KeyAlgorithm;
  readonly keyHint: string;
  readonly publicKeyPem: string;
  sign(data: Buffer): Promise<Buffer>;
}

/** A Signer over a private key PEM read from `source` (a path or other label used in error messages). */
export function loadSigner(privateKeyPem: string, source: string): Signer {
  const { algorithm, keyObject } = loadPrivateKey(privateKeyPem, source);
  const publicKeyPem = publicPemOf(keyObject);
  // ECDSA signatures come out DER-encoded (Node's default), which is what sigstore verifiers expect.
  const digest = algorithm === 'ed25519' ? null : 'sha256';
  return Object.freeze({
    algorithm,
    keyHint: keyHint(publicKeyPem),
    publicKeyPem,
    sign: async (data: Buffer): Promise<Buffer> => cryptoSign(digest, data, keyObject),
  });
}
