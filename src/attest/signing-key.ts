// Chooses the signing key: --key, else KILN_SIGNING_KEY, else kiln.yaml, else a local key created once in KILN_HOME.
import { promises as fsp } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { KilnError } from '../core/errors.js';
import type { KilnPaths } from '../core/home.js';
import { createExclusive, pathExists, writeFileAtomic } from '../platform/fsutil.js';
import { generateKeyPair } from './keys.js';
import { loadSigner, type Signer } from './signer.js';

/** Where the key came from, for messages. */
export interface ResolvedSigner {
  readonly signer: Signer;
  readonly source: string;
  readonly created: boolean;
  /** The file the private key was read from (none for a key given in KILN_SIGNING_KEY itself): hidden from steps. */
  readonly file?: string;
}

/** Resolves and loads the signing key in the documented order of precedence. */
export async function resolveSigner(opts: {
  keyFlag?: string | undefined;
  keyEnv?: string | undefined;
  configKey?: string | undefined;
  /** Directory relative config paths are resolved against (the project in the user's tree). */
  projectPath: string;
  cwd: string;
  paths: KilnPaths;
}): Promise<ResolvedSigner> {
  if (opts.keyFlag) return fromFile(resolve(opts.cwd, opts.keyFlag), '--key');
  if (opts.keyEnv?.includes('-----BEGIN')) {
    return { signer: loadSigner(opts.keyEnv, 'KILN_SIGNING_KEY'), source: 'KILN_SIGNING_KEY', created: false };
  }
  if (opts.keyEnv) return fromFile(resolve(opts.cwd, opts.keyEnv), 'KILN_SIGNING_KEY');
  if (opts.configKey) {
    return fromFile(
      isAbsolute(opts.configKey) ? opts.configKey : resolve(opts.projectPath, opts.configKey),
      'kiln.yaml signing.key',
    );
  }
  const created = await createDefaultKeyOnce(opts.paths);
  const resolved = await fromFile(opts.paths.defaultKey, 'the local default key');
  if (!(await pathExists(opts.paths.defaultPub)))
    await writeFileAtomic(opts.paths.defaultPub, resolved.signer.publicKeyPem);
  return { ...resolved, created };
}

/** Creates the default key with an exclusive link, so concurrent first builds agree on one key. */
async function createDefaultKeyOnce(paths: KilnPaths): Promise<boolean> {
  if (await pathExists(paths.defaultKey)) return false;
  await fsp.mkdir(paths.keys, { recursive: true, mode: 0o700 });
  // An exclusive link: concurrent first builds agree on one key (the loser uses the winner's).
  return createExclusive(paths.defaultKey, generateKeyPair('ecdsa-p256').privateKeyPem, { durable: true, mode: 0o600 });
}

async function fromFile(path: string, via: string): Promise<ResolvedSigner> {
  let pem: string;
  try {
    pem = await fsp.readFile(path, 'utf8');
  } catch (cause) {
    throw new KilnError(
      'KILN_KEY_NOT_FOUND',
      `cannot read the signing key ${path} (from ${via}): ${(cause as Error).message}`,
      {
        cause,
        hint: 'create one with `kiln keys generate --out NAME` and point --key, KILN_SIGNING_KEY or signing.key at NAME.key',
      },
    );
  }
  return { signer: loadSigner(pem, path), source: `${via} (${path})`, created: false, file: path };
}
