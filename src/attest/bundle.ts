// Sigstore bundle v0.3 for key-signed DSSE envelopes: the one evidence file a verifier needs besides the key.
import { canonicalJson, deepFreeze, isRecord } from '../core/json.js';
import { type DsseEnvelope, signDsse } from './dsse.js';
import type { Signer } from './signer.js';
import { IN_TOTO_PAYLOAD_TYPE, type Statement, statementBytes } from './statement.js';

/** Media type of the bundles Kiln writes. */
export const SIGSTORE_BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** A key-signed sigstore bundle v0.3 in its JSON form (no transparency log, no timestamps: offline by design). */
export interface SigstoreBundle {
  readonly mediaType: typeof SIGSTORE_BUNDLE_V03;
  readonly verificationMaterial: {
    readonly publicKey: { readonly hint: string };
    readonly tlogEntries: readonly [];
    readonly timestampVerificationData: { readonly rfc3161Timestamps: readonly [] };
  };
  readonly dsseEnvelope: DsseEnvelope;
}

/** Wraps a signed envelope in a bundle naming the signing key by its hint. */
export function makeBundle(envelope: DsseEnvelope, keyHint: string): SigstoreBundle {
  return deepFreeze({
    mediaType: SIGSTORE_BUNDLE_V03,
    verificationMaterial: {
      publicKey: { hint: keyHint },
      tlogEntries: [] as const,
      timestampVerificationData: { rfc3161Timestamps: [] as const },
    },
    dsseEnvelope: structuredClone(envelope),
  });
}

/** Signs a statement as an in-toto DSSE envelope and bundles it: the whole attest step for one statement. */
export async function signStatement(statement: Statement, signer: Signer): Promise<SigstoreBundle> {
  const envelope = await signDsse(statementBytes(statement), IN_TOTO_PAYLOAD_TYPE, signer);
  return makeBundle(envelope, signer.keyHint);
}

/** A bundle as Kiln writes it to disk and to registries: canonical JSON, indented, newline-terminated. */
export function bundleBytes(bundle: SigstoreBundle): Buffer {
  return Buffer.from(`${canonicalJson(bundle, 2)}\n`, 'utf8');
}

/**
 * The predicate of a bundle's in-toto statement, decoded without any check (verify the bundle first); undefined when
 * the text is not a DSSE bundle of a statement.
 */
export function bundlePredicate(bundleJson: string): unknown {
  try {
    const bundle = JSON.parse(bundleJson) as { dsseEnvelope?: { payload?: string } };
    const payload = bundle.dsseEnvelope?.payload ?? '';
    const statement = JSON.parse(Buffer.from(payload, 'base64').toString('utf8')) as unknown;
    return isRecord(statement) ? statement.predicate : undefined;
  } catch {
    return undefined;
  }
}
