// Opens the cache tiers a build uses: the local CAS in KILN_HOME (or a scratch one when it is off) and the remote.
import { promises as fsp } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { loadPublicKey, type PublicKey } from '../attest/keys.js';
import type { Signer } from '../attest/signer.js';
import { KilnError } from '../core/errors.js';
import { LocalCas } from './index.js';
import type { CacheModes } from './modes.js';
import { type RemoteCache, remoteCache } from './remote/client.js';
import { StepCache } from './step-cache.js';

/** Where the remote cache is and how to authenticate (the header value is a secret: never logged). */
export interface RemoteCacheConfig {
  readonly url: string | undefined;
  readonly authorization: string | undefined;
}

/** The StepCache for one build. */
export async function openStepCache(opts: {
  /** The persistent local CAS (`$KILN_HOME/cache`). */
  localDir: string;
  workDir: string;
  modes: CacheModes;
  remote: RemoteCacheConfig;
  signer: Signer;
  trustFiles: readonly string[];
  projectPath: string;
  onWarning: (message: string) => void;
}): Promise<{ cache: StepCache; remote: RemoteCache | undefined; local: LocalCas; writable: LocalCas }> {
  const scratch = () => new LocalCas({ dir: join(opts.workDir, 'scratch-cache'), onWarning: opts.onWarning });
  const local =
    opts.modes.local === 'off' ? scratch() : new LocalCas({ dir: opts.localDir, onWarning: opts.onWarning });
  // local:r reads the persistent cache but adds nothing to it: this build's blobs go to a scratch CAS instead.
  const writable = opts.modes.local === 'r' ? scratch() : local;
  const remote =
    opts.modes.remote !== 'off' && opts.remote.url
      ? remoteCache({
          url: opts.remote.url,
          mode: opts.modes.remote,
          ...(opts.remote.authorization ? { headers: { Authorization: opts.remote.authorization } } : {}),
          onWarning: opts.onWarning,
        })
      : undefined;
  const trusted: PublicKey[] = [loadPublicKey(opts.signer.publicKeyPem, 'the signing key')];
  for (const file of opts.trustFiles) {
    const path = isAbsolute(file) ? file : resolve(opts.projectPath, file);
    const pem = await fsp.readFile(path, 'utf8').catch((cause: unknown) => {
      throw new KilnError(
        'KILN_CONFIG_INVALID',
        `cannot read the trusted cache key ${path} (cache.trust in kiln.yaml)`,
        {
          cause,
          hint: 'list public key files (.pub, PEM) relative to the project, or remove the entry',
        },
      );
    });
    trusted.push(loadPublicKey(pem, path));
  }
  const cache = new StepCache({
    local,
    writable,
    remote,
    modes: opts.modes,
    signer: opts.signer,
    trusted,
    onWarning: opts.onWarning,
  });
  return { cache, remote, local, writable };
}
