import { createPublicKey, verify } from 'node:crypto';
import { dsse } from '@sigstore/core';
import { describe, expect, it } from 'vitest';
import { pae, signDsse } from '../../../src/attest/index.js';
import { newSigner } from '../../helpers/attest.js';

describe('pae', () => {
  it('matches the hand-computed DSSE v1 encoding', () => {
    const got = pae('application/vnd.in-toto+json', Buffer.from('{"a":1}'));
    expect(got.toString('latin1')).toBe('DSSEv1 28 application/vnd.in-toto+json 7 {"a":1}');
  });

  it('uses byte lengths, not character lengths', () => {
    const got = pae('tÿpe', Buffer.from('héllo', 'utf8'));
    const expected = Buffer.concat([
      Buffer.from('DSSEv1 5 '),
      Buffer.from('tÿpe', 'utf8'),
      Buffer.from(' 6 '),
      Buffer.from('héllo', 'utf8'),
    ]);
    expect(got.equals(expected)).toBe(true);
    expect(pae('', Buffer.alloc(0)).toString()).toBe('DSSEv1 0  0 ');
  });

  it('agrees with the PAE @sigstore/verify checks signatures against', () => {
    const payload = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
    expect(pae('application/vnd.in-toto+json', payload)).toEqual(
      dsse.preAuthEncoding('application/vnd.in-toto+json', payload),
    );
  });
});

describe('signDsse', () => {
  for (const alg of ['ecdsa-p256', 'ed25519'] as const) {
    it(`produces a single-signature envelope verifiable over the PAE (${alg})`, async () => {
      const signer = newSigner(alg);
      const payload = Buffer.from('{"hello":"world"}');
      const env = await signDsse(payload, 'application/example', signer);
      expect(env.payload).toBe(payload.toString('base64'));
      expect(env.payloadType).toBe('application/example');
      expect(env.signatures).toHaveLength(1);
      expect(env.signatures[0]?.keyid).toBe('');
      const sig = Buffer.from(env.signatures[0]?.sig ?? '', 'base64');
      if (alg === 'ecdsa-p256') expect(sig[0]).toBe(0x30); // DER SEQUENCE, as sigstore expects
      const key = createPublicKey(signer.publicKeyPem);
      const digest = alg === 'ed25519' ? null : 'sha256';
      expect(verify(digest, pae('application/example', payload), key, sig)).toBe(true);
      expect(Object.isFrozen(env)).toBe(true);
    });
  }
});
