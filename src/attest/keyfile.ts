// Key pairs on disk: the private half readable by its owner only, never silently replaced.
import { promises as fsp } from 'node:fs';
import { KilnError } from '../core/errors.js';
import { pathExists, writeFileAtomic } from '../platform/fsutil.js';
import { generateKeyPair, type KeyAlgorithm, keyHint } from './keys.js';

/** Generates a key pair and writes `<prefix>.key` (0600) and `<prefix>.pub` (0644) atomically. */
export async function writeKeyPair(
  prefix: string,
  alg: KeyAlgorithm,
  opts: { force?: boolean } = {},
): Promise<{ keyPath: string; pubPath: string; keyHint: string }> {
  const keyPath = `${prefix}.key`;
  const pubPath = `${prefix}.pub`;
  if (!opts.force) {
    for (const path of [keyPath, pubPath]) {
      if (await pathExists(path)) {
        throw new KilnError('KILN_USAGE', `refusing to overwrite existing key file ${path}`, {
          hint: 'choose another prefix, or pass --force to replace it (signatures made with the old key stay valid only for its old public key)',
        });
      }
    }
  }
  const pair = generateKeyPair(alg);
  await writeFileAtomic(keyPath, pair.privateKeyPem, { mode: 0o600 });
  await fsp.chmod(keyPath, 0o600);
  await writeFileAtomic(pubPath, pair.publicKeyPem, { mode: 0o644 });
  await fsp.chmod(pubPath, 0o644);
  return { keyPath, pubPath, keyHint: keyHint(pair.publicKeyPem) };
}
