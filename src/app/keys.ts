// `kiln keys generate`: a signing key pair on disk.
import { resolve } from 'node:path';
import { writeKeyPair } from '../attest/keyfile.js';
import type { KeyAlgorithm } from '../attest/keys.js';
import { KilnError } from '../core/errors.js';
import type { KilnPorts } from './ports.js';

/** The algorithms `kiln keys generate` offers. */
const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['ecdsa-p256', 'ed25519'];

/** Writes PREFIX.key (0600) and PREFIX.pub; `prefix` is relative to the caller's directory. */
export async function generateKeys(
  ports: Pick<KilnPorts, 'cwd'>,
  request: { readonly prefix: string; readonly algorithm: string; readonly force: boolean },
) {
  const algorithm = request.algorithm as KeyAlgorithm;
  if (!KEY_ALGORITHMS.includes(algorithm)) {
    throw new KilnError('KILN_USAGE', `unknown --algorithm "${request.algorithm}"`, {
      hint: `use one of: ${KEY_ALGORITHMS.join(', ')}`,
    });
  }
  const written = await writeKeyPair(resolve(ports.cwd, request.prefix), algorithm, { force: request.force });
  return { ...written, algorithm };
}
