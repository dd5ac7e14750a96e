// Signed action-cache entries: "the step with this key produced this output tree", bound to the key and the writer.
//
// Trust model. Only Kiln's own process (outside the sandbox) writes the cache, never a build step. A writer signs
// every entry with its key; a reader accepts an entry only when it carries exactly one signature from a key in its
// configured trust list and names the very key it was stored under (so a valid entry copied to another key is
// useless). Blobs need no signature: they are checked against their address on every read. A developer laptop
// typically trusts its own key (and CI's); a read-only consumer of a shared cache trusts only CI's key.
import { verify } from 'node:crypto';
import { pae, signDsse } from '../attest/dsse.js';
import type { PublicKey } from '../attest/keys.js';
import type { Signer } from '../attest/signer.js';
import { type Digest, isDigest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import { canonicalJson, deepFreeze, isRecord } from '../core/json.js';
import { isActionKey } from './types.js';

/** The DSSE payloadType of action entries; part of what is signed, so an entry cannot pass for another document. */
export const ACTION_PAYLOAD_TYPE = 'application/vnd.kiln.action+json';

/** One cached step execution: which outputs the step with `key` produced, and in which build. */
export interface ActionEntry {
  readonly version: 1;
  /** The action key (64 hex) this entry is stored under. */
  readonly key: string;
  /** Digest of the stored output tree manifest. */
  readonly tree: Digest;
  /** The step's output digest as downstream cache keys see it (Kiln uses the tree digest). */
  readonly outputsDigest: Digest;
  /** The build and step that ran; `durationMs` (how long the step took) lets a hit report the time it saved. */
  readonly producedBy: { readonly buildId: string; readonly step: string; readonly durationMs?: number };
  /** RFC 3339 time the entry was written. */
  readonly createdAt: string;
}

/** Why an action entry was ignored; each is counted and logged, none fails a build. */
export type ActionEntryRejection = 'unsigned' | 'untrusted-key' | 'bad-signature' | 'wrong-key' | 'malformed';

/** The verdict on stored entry bytes: a usable entry, or why it was ignored (with a human-readable detail). */
export type ActionEntryRead =
  | { readonly ok: true; readonly entry: ActionEntry }
  | { readonly ok: false; readonly reason: ActionEntryRejection; readonly detail: string };

/** Signs `entry` as a single-signature DSSE envelope whose keyid is the signer's key hint; returns the bytes to store. */
export async function signActionEntry(entry: ActionEntry, signer: Signer): Promise<Buffer> {
  const problem = entryProblem(entry);
  if (problem !== undefined) throw new KilnError('KILN_USAGE', `refusing to sign an invalid action entry: ${problem}`);
  const envelope = await signDsse(Buffer.from(canonicalJson(entry), 'utf8'), ACTION_PAYLOAD_TYPE, signer);
  const sig = envelope.signatures[0]?.sig ?? '';
  return Buffer.from(canonicalJson({ ...envelope, signatures: [{ keyid: signer.keyHint, sig }] }), 'utf8');
}

/** Accepts stored entry bytes only if signed (once) by a trusted key and bound to `expectedKey`. Never throws. */
export function readActionEntry(
  bytes: Buffer,
  expectedKey: string,
  trustedKeys: readonly PublicKey[],
): ActionEntryRead {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch {
    return reject('malformed', 'not JSON');
  }
  if (!isRecord(raw)) return reject('malformed', 'not a JSON object');
  // Checked first: a bare entry or an envelope without signatures is "unsigned", whatever else is wrong with it.
  const sigs = raw.signatures;
  if (sigs === undefined || (Array.isArray(sigs) && sigs.length === 0)) return reject('unsigned', 'no signature');
  if (raw.payloadType !== ACTION_PAYLOAD_TYPE) {
    return reject('malformed', `payloadType ${JSON.stringify(raw.payloadType)}, expected ${ACTION_PAYLOAD_TYPE}`);
  }
  if (!isBase64(raw.payload)) return reject('malformed', 'payload is not base64');
  if (!Array.isArray(sigs) || sigs.length !== 1) {
    return reject('malformed', `expected exactly 1 signature, found ${Array.isArray(sigs) ? sigs.length : 'none'}`);
  }
  const [only] = sigs as unknown[];
  if (!isRecord(only) || typeof only.keyid !== 'string' || !isBase64(only.sig)) {
    return reject('malformed', 'the signature has no keyid or no base64 sig');
  }
  const key = trustedKeys.find((k) => k.keyHint === only.keyid);
  if (key === undefined) {
    return reject('untrusted-key', `signed by key ${JSON.stringify(only.keyid)}, trusted: ${trustedKeys.length} keys`);
  }
  const payload = Buffer.from(raw.payload, 'base64');
  if (!verifies(key, pae(ACTION_PAYLOAD_TYPE, payload), Buffer.from(only.sig, 'base64'))) {
    return reject('bad-signature', `signature does not verify with key ${key.keyHint}`);
  }
  let entry: unknown;
  try {
    entry = JSON.parse(payload.toString('utf8'));
  } catch {
    return reject('malformed', 'signed payload is not JSON');
  }
  const problem = entryProblem(entry);
  if (problem !== undefined) return reject('malformed', problem);
  const valid = pick(entry as ActionEntry);
  if (valid.key !== expectedKey)
    return reject('wrong-key', `entry is for key ${valid.key}, stored under ${expectedKey}`);
  return deepFreeze({ ok: true, entry: valid });
}

function verifies(key: PublicKey, data: Buffer, sig: Buffer): boolean {
  try {
    // ECDSA signatures are DER over sha256; Ed25519 hashes internally (no digest argument).
    return verify(key.algorithm === 'ed25519' ? null : 'sha256', data, key.keyObject, sig);
  } catch {
    return false;
  }
}

/** The first thing wrong with an entry's shape, or undefined when it is a valid ActionEntry. */
function entryProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return 'entry is not an object';
  if (value.version !== 1) return `version ${JSON.stringify(value.version)}, expected 1`;
  if (!isActionKey(value.key)) return 'key is not 64 hex digits';
  if (!isDigest(value.tree)) return 'tree is not a sha256 digest';
  if (!isDigest(value.outputsDigest)) return 'outputsDigest is not a sha256 digest';
  const by = value.producedBy;
  if (!isRecord(by) || !nonEmpty(by.buildId) || !nonEmpty(by.step)) return 'producedBy needs buildId and step';
  if (by.durationMs !== undefined && !(Number.isSafeInteger(by.durationMs) && (by.durationMs as number) >= 0)) {
    return 'producedBy.durationMs is not a whole number of milliseconds';
  }
  if (!nonEmpty(value.createdAt) || Number.isNaN(Date.parse(value.createdAt))) return 'createdAt is not a time';
  return undefined;
}

/** Only the known fields: whatever else a (signed) payload carries does not travel further. */
function pick(e: ActionEntry): ActionEntry {
  const { version, key, tree, outputsDigest, producedBy: by, createdAt } = e;
  const producedBy = {
    buildId: by.buildId,
    step: by.step,
    ...(by.durationMs === undefined ? {} : { durationMs: by.durationMs }),
  };
  return { version, key, tree, outputsDigest, producedBy, createdAt };
}

function reject(reason: ActionEntryRejection, detail: string): ActionEntryRead {
  return Object.freeze({ ok: false, reason, detail });
}

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function isBase64(value: unknown): value is string {
  return typeof value === 'string' && value.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(value);
}
