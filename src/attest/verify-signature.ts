// The sigstore half of verification: parse the bundle, build offline trust material, let @sigstore/verify check it.
import { type Bundle, bundleFromJSON, ValidationError } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { type KeyFinderFunc, toSignedEntity, toTrustMaterial, VerificationError, Verifier } from '@sigstore/verify';
import { loadPublicKey, type PublicKey } from './keys.js';
import { fail, pass, type VerifyCheck } from './report.js';

/** Parses bundle JSON strictly: a DSSE envelope must hold exactly one signature, and the bundle must be key-signed. */
export function parseBundle(bundleJson: string): { bundle?: Bundle; hint?: string; checks: VerifyCheck[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(bundleJson);
  } catch (err) {
    return { checks: [fail('bundle', 'bundle is not JSON', 'a sigstore bundle (JSON)', errorText(err))] };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { checks: [fail('bundle', 'bundle is not a JSON object', 'a sigstore bundle object', typeOf(raw))] };
  }
  const checks: VerifyCheck[] = [];
  const envelope = (raw as Record<string, unknown>).dsseEnvelope;
  if (envelope !== undefined) {
    // Checked before sigstore sees it: a verifier that honours only signatures[0] must never see a second one.
    const sigs = (envelope as Record<string, unknown> | null)?.signatures;
    const count = Array.isArray(sigs) ? sigs.length : 0;
    if (count !== 1) {
      return { checks: [fail('signature-count', 'DSSE envelope signature count', 'exactly 1 signature', `${count}`)] };
    }
    checks.push(pass('signature-count', 'DSSE envelope carries exactly one signature', '1'));
  }
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(raw);
  } catch (err) {
    const detail = err instanceof ValidationError ? `invalid fields: ${err.fields.join(', ')}` : errorText(err);
    return { checks: [...checks, fail('bundle', 'bundle does not parse', 'a valid sigstore bundle', detail)] };
  }
  const material = bundle.verificationMaterial?.content;
  if (material?.$case !== 'publicKey') {
    const actual = material ? `${material.$case} verification material` : 'no verification material';
    const expected = 'a key-signed bundle (verificationMaterial.publicKey)';
    return { checks: [...checks, fail('bundle', 'bundle is not signed with a key', expected, actual)] };
  }
  const hint = material.publicKey.hint;
  checks.push(pass('bundle', `sigstore bundle ${bundle.mediaType}, signed by key hint "${hint}"`, bundle.mediaType));
  return { bundle, hint, checks };
}

/** Loads the verifier's trusted public key, or reports why it cannot be used. */
export function checkPublicKey(
  publicKeyPem: string | undefined,
  bundleHint: string,
): { key?: PublicKey; check: VerifyCheck } {
  if (publicKeyPem === undefined) {
    return { check: fail('public-key', 'no public key given', `the public key with hint "${bundleHint}"`, 'none') };
  }
  try {
    const key = loadPublicKey(publicKeyPem, 'the given public key');
    return { key, check: pass('public-key', `${key.algorithm} public key with hint "${key.keyHint}"`, key.keyHint) };
  } catch (err) {
    return { check: fail('public-key', 'public key unusable', 'an Ed25519 or ECDSA P-256 SPKI PEM', errorText(err)) };
  }
}

/** Parses a sigstore TrustedRoot; none given means an empty root (no logs, no CAs, no timestamp authorities). */
export function checkTrustedRoot(trustedRootJson: string | undefined): { root?: TrustedRoot; check: VerifyCheck } {
  if (trustedRootJson === undefined) {
    return {
      root: TrustedRoot.fromJSON({}),
      check: pass('trusted-root', 'empty trusted root: key only, fully offline'),
    };
  }
  try {
    const root = TrustedRoot.fromJSON(JSON.parse(trustedRootJson));
    // Building trust material decodes every log key and CA certificate, so a broken root fails here, by name.
    toTrustMaterial(root, () => {
      throw new Error('unused: only the root is being checked');
    });
    return { root, check: pass('trusted-root', `trusted root with ${root.tlogs.length} transparency logs`) };
  } catch (err) {
    return { check: fail('trusted-root', 'trusted root unusable', 'a sigstore TrustedRoot JSON', errorText(err)) };
  }
}

/** Runs @sigstore/verify with the one trusted key; `artifact` bytes are needed only for message signatures. */
export function checkSignature(bundle: Bundle, key: PublicKey, root: TrustedRoot, artifact?: Buffer): VerifyCheck {
  let mismatch: string | undefined;
  const keyFinder: KeyFinderFunc = (hint) => {
    // An empty hint names no key, so the given key is tried; any other hint must be the given key's.
    if (hint !== '' && hint !== key.keyHint) {
      mismatch = hint;
      throw new VerificationError({ code: 'PUBLIC_KEY_ERROR', message: `key not found: ${hint}` });
    }
    return { publicKey: key.keyObject, validFor: () => true };
  };
  const verifier = new Verifier(toTrustMaterial(root, keyFinder), {
    tlogThreshold: 0,
    ctlogThreshold: 0,
    timestampThreshold: 0,
  });
  try {
    verifier.verify(toSignedEntity(bundle, artifact));
  } catch (err) {
    if (mismatch !== undefined) {
      return fail('signature', 'signed by another key', `key hint "${key.keyHint}"`, `key hint "${mismatch}"`);
    }
    const detail = err instanceof VerificationError ? `${err.code}: ${err.message}` : errorText(err);
    return fail('signature', 'signature does not verify', `a valid signature by key "${key.keyHint}"`, detail);
  }
  return pass('signature', `signature verified with key "${key.keyHint}"`, key.keyHint);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function typeOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}
