// DSSE: the envelope that binds a payload and its type to one signature (what sigstore bundles carry).
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import type { Signer } from './signer.js';

/** A DSSE envelope in its JSON form (base64 payload and signatures), as embedded in a sigstore bundle. */
export interface DsseEnvelope {
  readonly payload: string;
  readonly payloadType: string;
  readonly signatures: readonly { readonly sig: string; readonly keyid: string }[];
}

/** The DSSE v1 pre-authentication encoding: the exact bytes that get signed. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  const header = Buffer.from(`DSSEv1 ${type.length} `, 'ascii');
  const middle = Buffer.from(` ${payload.length} `, 'ascii');
  return Buffer.concat([header, type, middle, payload]);
}

/** Signs `payload` under `payloadType` and wraps it in a single-signature envelope. */
export async function signDsse(payload: Buffer, payloadType: string, signer: Signer): Promise<DsseEnvelope> {
  const sig = await signer.sign(pae(payloadType, payload));
  return Object.freeze({
    payload: payload.toString('base64'),
    payloadType,
    signatures: Object.freeze([Object.freeze({ sig: sig.toString('base64'), keyid: '' })]),
  });
}

/** True when some signature of the envelope verifies with the PEM public key (ECDSA P-256 over SHA-256, or Ed25519). */
export function dsseSignedBy(envelope: DsseEnvelope, publicKeyPem: string): boolean {
  const key = createPublicKey(publicKeyPem);
  const digest = key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  const signed = pae(envelope.payloadType, Buffer.from(envelope.payload, 'base64'));
  return envelope.signatures.some((s) => cryptoVerify(digest, signed, key, Buffer.from(s.sig, 'base64')));
}
