// Sealed memo files: a memo Kiln keeps in its home to save time (the blob memo) is signed with the signing key when
// written and ignored when its seal does not verify, so whoever can edit the home, but not use the key, cannot make
// Kiln believe a remembered digest it did not compute.
import { verify } from 'node:crypto';
import type { TextSeal } from '../core/seal.js';
import { loadPublicKey } from './keys.js';
import type { Signer } from './signer.js';

/** Domain separation: a seal cannot pass for a signature over anything else Kiln signs. */
const CONTEXT = 'kiln-memo-seal-v1\n';
const TRAILER = '\nkiln-seal ';

/** Seals text with `signer` (a last line `kiln-seal <key hint> <base64 signature>`) and opens what it sealed. */
export function signerSeal(signer: Signer): TextSeal {
  const { keyObject, algorithm } = loadPublicKey(signer.publicKeyPem, 'the signing key');
  const data = (text: string) => Buffer.from(`${CONTEXT}${text}`, 'utf8');
  return {
    async seal(text) {
      const sig = await signer.sign(data(text));
      return `${text}${TRAILER}${signer.keyHint} ${sig.toString('base64')}\n`;
    },
    open(sealed) {
      const at = sealed.lastIndexOf(TRAILER);
      if (at < 0 || !sealed.endsWith('\n')) return undefined;
      const text = sealed.slice(0, at);
      const [hint, sig] = sealed.slice(at + TRAILER.length, -1).split(' ');
      if (hint !== signer.keyHint || !sig) return undefined;
      try {
        const ok = verify(algorithm === 'ed25519' ? null : 'sha256', data(text), keyObject, Buffer.from(sig, 'base64'));
        return ok ? text : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
