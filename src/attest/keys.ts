// Key material for file-key signing: generation, parsing with clear errors, and the sigstore key hint.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { KilnError } from '../core/errors.js';

/** The two signature algorithms Kiln signs with (both accepted by sigstore verifiers). */
export type KeyAlgorithm = 'ecdsa-p256' | 'ed25519';

/** A parsed, supported public key: what a verifier needs to check a signature and match a bundle's hint. */
export interface PublicKey {
  readonly algorithm: KeyAlgorithm;
  readonly keyHint: string;
  readonly publicKeyPem: string;
  readonly keyObject: KeyObject;
}

const SUPPORTED = 'Ed25519 or ECDSA P-256';

/** A fresh key pair as PKCS8 (private) and SPKI (public) PEM, ready to be written to disk. */
export function generateKeyPair(alg: KeyAlgorithm): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } =
    alg === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** base64(sha256(SPKI DER)): the `publicKey.hint` sigstore bundles use to name the signing key. */
export function keyHint(publicKeyPem: string): string {
  return hintOf(createPublicKey(publicKeyPem));
}

/** Parses a public key PEM read from `source`, rejecting anything Kiln cannot verify with. */
export function loadPublicKey(pem: string, source: string): PublicKey {
  const label = pemLabel(pem, source);
  if (label.includes('PRIVATE KEY')) {
    throw keyError(`${source} is a private key, expected a public key (-----BEGIN PUBLIC KEY-----)`, {
      hint: 'pass the .pub file, and keep the private key out of verification inputs',
    });
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey(pem);
  } catch (cause) {
    throw keyError(`${source} is not a valid public key PEM (${errorText(cause)})`, {
      hint: 'expected an SPKI PEM as written by Kiln next to the private key (<prefix>.pub)',
      cause,
    });
  }
  const algorithm = algorithmOf(keyObject, source);
  return Object.freeze({
    algorithm,
    keyHint: hintOf(keyObject),
    publicKeyPem: keyObject.export({ type: 'spki', format: 'pem' }).toString(),
    keyObject,
  });
}

/** Parses an unencrypted private key PEM read from `source`; the error never contains key bytes. */
export function loadPrivateKey(pem: string, source: string): { algorithm: KeyAlgorithm; keyObject: KeyObject } {
  const label = pemLabel(pem, source);
  if (label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(pem)) {
    throw keyError(`${source} is an encrypted private key; Kiln needs an unencrypted PKCS8 key`, {
      hint: `decrypt it (e.g. openssl pkcs8 -topk8 -nocrypt) or generate a new ${SUPPORTED} key pair`,
    });
  }
  if (!label.includes('PRIVATE KEY')) {
    throw keyError(`${source} holds a "${label}" PEM block, expected a private key (-----BEGIN PRIVATE KEY-----)`, {
      hint: label.includes('PUBLIC KEY') ? 'this is the public half; sign with the .key file, not the .pub' : undefined,
    });
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(pem);
  } catch (cause) {
    throw keyError(`${source} is not a valid private key PEM (${errorText(cause)})`, {
      hint: `expected a PKCS8 ${SUPPORTED} key as written by Kiln (<prefix>.key)`,
      cause,
    });
  }
  return { algorithm: algorithmOf(keyObject, source), keyObject };
}

/** The SPKI PEM of a private key's public half. */
export function publicPemOf(privateKey: KeyObject): string {
  return createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
}

function hintOf(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('base64');
}

function algorithmOf(key: KeyObject, source: string): KeyAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return 'ed25519';
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (type === 'ec' && curve === 'prime256v1') return 'ecdsa-p256';
  const actual = type === 'ec' ? `EC ${curve ?? 'unknown curve'}` : (type ?? 'unknown').toUpperCase();
  throw keyError(`${source} is not an ${SUPPORTED} key (got ${actual}); Kiln signs with those only`, {
    hint: `generate a new ${SUPPORTED} key pair`,
  });
}

function pemLabel(pem: string, source: string): string {
  const match = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem);
  if (!match?.[1]) {
    throw keyError(`${source} is not a PEM key (no "-----BEGIN ...-----" line found)`, {
      hint: 'expected a PEM file as written by Kiln (<prefix>.key / <prefix>.pub)',
    });
  }
  return match[1];
}

function keyError(message: string, opts: { hint?: string | undefined; cause?: unknown }): KilnError {
  return new KilnError('KILN_KEY_INVALID', message, {
    ...(opts.hint === undefined ? {} : { hint: opts.hint }),
    ...(opts.cause === undefined ? {} : { cause: opts.cause }),
  });
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
