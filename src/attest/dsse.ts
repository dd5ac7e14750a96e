// DSSE: the envelope that binds a payload and its type to one signature (what sigstore bundles carry).
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
