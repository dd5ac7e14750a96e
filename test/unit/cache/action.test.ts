import { describe, expect, it } from 'vitest';
import { generateKeyPair, type KeyAlgorithm, loadPublicKey, loadSigner, signDsse } from '../../../src/attest/index.js';
import {
  ACTION_PAYLOAD_TYPE,
  type ActionEntry,
  LocalCas,
  readActionEntry,
  signActionEntry,
} from '../../../src/cache/index.js';
import { sha256Digest } from '../../../src/core/digest.js';
import { canonicalJson } from '../../../src/core/json.js';
import { tempDir } from '../../helpers/tmp.js';

function keyPair(alg: KeyAlgorithm) {
  const { privateKeyPem, publicKeyPem } = generateKeyPair(alg);
  return { signer: loadSigner(privateKeyPem, `${alg}.key`), publicKey: loadPublicKey(publicKeyPem, `${alg}.pub`) };
}

const ours = keyPair('ed25519');
const ci = keyPair('ecdsa-p256');
const stranger = keyPair('ed25519');
const trusted = [ours.publicKey, ci.publicKey];

const KEY = 'a1'.repeat(32);
const entry: ActionEntry = {
  version: 1,
  key: KEY,
  tree: sha256Digest('tree'),
  outputsDigest: sha256Digest('tree'),
  producedBy: { buildId: 'b-123', step: 'compile', durationMs: 4200 },
  createdAt: '2026-01-01T00:00:00Z',
};

type Envelope = { payload: string; payloadType: string; signatures: { keyid: string; sig: string }[] };
const parse = (bytes: Buffer) => JSON.parse(bytes.toString()) as Envelope;
const bytesOf = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('signed action entries', () => {
  it('accepts an entry signed by a trusted key (Ed25519 and ECDSA P-256) and bound to its key', async () => {
    for (const { signer } of [ours, ci]) {
      const bytes = await signActionEntry(entry, signer);
      const env = parse(bytes);
      expect(env.payloadType).toBe(ACTION_PAYLOAD_TYPE);
      expect(env.signatures).toEqual([{ keyid: signer.keyHint, sig: expect.any(String) }]);
      expect(Buffer.from(env.payload, 'base64').toString()).toBe(canonicalJson(entry));
      expect(readActionEntry(bytes, KEY, trusted)).toEqual({ ok: true, entry });
    }
  });

  it('round-trips through the local cache', async () => {
    const cas = new LocalCas({ dir: tempDir('kiln-ac-') });
    await cas.putAction(KEY, await signActionEntry(entry, ours.signer));
    const stored = await cas.getAction(KEY);
    expect(stored && readActionEntry(stored, KEY, [ours.publicKey])).toEqual({ ok: true, entry });
  });

  it('rejects an unsigned entry', async () => {
    const env = parse(await signActionEntry(entry, ours.signer));
    expect(readActionEntry(bytesOf({ ...env, signatures: [] }), KEY, trusted)).toMatchObject({ reason: 'unsigned' });
    expect(readActionEntry(bytesOf(entry), KEY, trusted)).toMatchObject({ ok: false, reason: 'unsigned' });
  });

  it('rejects an entry signed by a key that is not trusted', async () => {
    const bytes = await signActionEntry(entry, stranger.signer);
    expect(readActionEntry(bytes, KEY, trusted)).toMatchObject({ ok: false, reason: 'untrusted-key' });
    expect(readActionEntry(bytes, KEY, [])).toMatchObject({ ok: false, reason: 'untrusted-key' });
  });

  it('rejects a changed payload and a signature that claims a trusted key it was not made with', async () => {
    const env = parse(await signActionEntry(entry, ours.signer));
    const poisoned = { ...entry, tree: sha256Digest('evil tree') };
    const changed = { ...env, payload: Buffer.from(canonicalJson(poisoned)).toString('base64') };
    expect(readActionEntry(bytesOf(changed), KEY, trusted)).toMatchObject({ ok: false, reason: 'bad-signature' });

    const forged = parse(await signActionEntry(poisoned, stranger.signer));
    const claimed = { ...forged, signatures: [{ keyid: ours.signer.keyHint, sig: forged.signatures[0]?.sig }] };
    expect(readActionEntry(bytesOf(claimed), KEY, trusted)).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('rejects a valid entry stored under another key', async () => {
    const bytes = await signActionEntry(entry, ours.signer);
    const other = 'b2'.repeat(32);
    expect(readActionEntry(bytes, other, trusted)).toMatchObject({ ok: false, reason: 'wrong-key' });
  });

  it('rejects malformed envelopes and payloads', async () => {
    const env = parse(await signActionEntry(entry, ours.signer));
    const sig = env.signatures[0] as { keyid: string; sig: string };
    const inTotoTyped = await signDsse(Buffer.from(canonicalJson(entry)), 'application/vnd.in-toto+json', ours.signer);
    const badPayload = await signDsse(Buffer.from('{"version":2}'), ACTION_PAYLOAD_TYPE, ours.signer);
    const cases: [string, Buffer][] = [
      ['not JSON', Buffer.from('{not json')],
      ['an array', bytesOf([env])],
      ['two signatures', bytesOf({ ...env, signatures: [sig, sig] })],
      ['another payloadType', bytesOf({ ...inTotoTyped, signatures: [{ keyid: ours.signer.keyHint, sig }] })],
      ['a non-base64 payload', bytesOf({ ...env, payload: '!!!!' })],
      ['a signature without keyid', bytesOf({ ...env, signatures: [{ sig: sig.sig }] })],
      [
        'a signed payload that is not an entry',
        bytesOf({
          ...badPayload,
          signatures: [{ keyid: ours.signer.keyHint, sig: badPayload.signatures[0]?.sig }],
        }),
      ],
    ];
    for (const [what, bytes] of cases) {
      expect({ what, read: readActionEntry(bytes, KEY, trusted) }).toMatchObject({
        what,
        read: { ok: false, reason: 'malformed' },
      });
    }
  });

  it('refuses to sign an entry readers would reject', async () => {
    await expect(signActionEntry({ ...entry, key: 'short' }, ours.signer)).rejects.toMatchObject({
      code: 'KILN_USAGE',
    });
  });
});
