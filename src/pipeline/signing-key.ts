// Chooses the signing key: --key, else KILN_SIGNING_KEY, else kiln.yaml, else a local key created once in KILN_HOME.
import { promises as fsp } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { loadSigner, type Signer, writeKeyPair } from '../attest/index.js';
import { KilnError } from '../core/errors.js';
import type { KilnPaths } from '../core/home.js';

/** Where the key came from, for messages and provenance of the decision. */
export interface ResolvedSigner {
  readonly signer: Signer;
  readonly source: string;
  readonly publicKeyPath: string | undefined;
  readonly created: boolean;
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
  if (opts.keyEnv) {
    if (opts.keyEnv.includes('-----BEGIN')) {
      return {
        signer: loadSigner(opts.keyEnv, 'KILN_SIGNING_KEY'),
        source: 'KILN_SIGNING_KEY',
        publicKeyPath: undefined,
        created: false,
      };
    }
    return fromFile(resolve(opts.cwd, opts.keyEnv), 'KILN_SIGNING_KEY');
  }
  if (opts.configKey) {
    const path = isAbsolute(opts.configKey) ? opts.configKey : resolve(opts.projectPath, opts.configKey);
    return fromFile(path, 'kiln.yaml signing.key');
  }
  const { defaultKey, defaultPub } = opts.paths;
  const exists = await fsp.stat(defaultKey).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await fsp.mkdir(opts.paths.keys, { recursive: true, mode: 0o700 });
    await writeKeyPair(defaultKey.replace(/\.key$/, ''), 'ecdsa-p256');
  }
  const resolved = await fromFile(defaultKey, 'local default key');
  return { ...resolved, publicKeyPath: defaultPub, created: !exists };
}

async function fromFile(path: string, via: string): Promise<ResolvedSigner> {
  let pem: string;
  try {
    pem = await fsp.readFile(path, 'utf8');
  } catch (cause) {
    throw new KilnError(
      'E_KEY_NOT_FOUND',
      `cannot read the signing key ${path} (from ${via}): ${(cause as Error).message}`,
      {
        cause,
        hint: 'create one with `kiln keys generate --out NAME` and point --key, KILN_SIGNING_KEY or signing.key at NAME.key',
      },
    );
  }
  const signer = loadSigner(pem, path);
  const pub = path.endsWith('.key') ? `${path.slice(0, -4)}.pub` : undefined;
  const pubExists = pub
    ? await fsp.stat(pub).then(
        () => true,
        () => false,
      )
    : false;
  return { signer, source: `${via} (${path})`, publicKeyPath: pubExists ? pub : undefined, created: false };
}
