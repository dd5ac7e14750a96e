// The embedded defaults, needing no service: the SQLite store (or the PostgreSQL one given) and OCI layout in the
// Kiln home, file keys, the bubblewrap sandbox, registry credentials from the environment. Part of the composition
// root (see kiln.ts).
import { availableParallelism } from 'node:os';
import { type EventSink, IGNORE_EVENTS } from '../core/events.js';
import { kilnPaths } from '../core/home.js';
import { layoutTarget } from '../registry/layout/target.js';
import { createRegistryClient, defaultDockerConfigPath, resolveCredentials } from '../registry/remote/index.js';
import type { ArtifactTarget } from '../registry/target.js';
import { chooseRunner } from '../sandbox/choose.js';
import type { Env, KilnPorts } from './ports.js';

/** What the embedded defaults are made from; anything in `overrides` replaces its default. */
export interface EmbeddedOptions {
  /** The Kiln home (KILN_HOME, default ~/.kiln), absolute. */
  readonly home: string;
  readonly env: Env;
  readonly cwd: string;
  readonly version: string;
  readonly now?: () => Date;
  readonly events?: EventSink;
  readonly parallelism?: number;
  readonly artifacts?: ArtifactTarget;
  /**
   * Where the store is instead of the home's SQLite file: a postgres:// URL (`kiln serve --database`). Keys, caches
   * and work directories stay in the home whatever it is.
   */
  readonly database?: string | undefined;
}

/** Ports over the local machine and the Kiln home. */
export function embeddedPorts(opts: EmbeddedOptions): KilnPorts {
  const home = kilnPaths(opts.home);
  const { env, cwd } = opts;
  const events = opts.events ?? IGNORE_EVENTS;
  return {
    home,
    // Loaded when first opened: a command that needs no store never loads SQLite (or pg).
    store: async () => (await import('../store/index.js')).openStore(opts.database ?? home.store),
    artifacts: opts.artifacts ?? layoutTarget(home.oci),
    cache: { localDir: home.cache, remote: { url: env.KILN_REMOTE_CACHE, authorization: env.KILN_REMOTE_CACHE_AUTH } },
    signer: async (request) =>
      (await import('../attest/signing-key.js')).resolveSigner({
        keyFlag: request.flag,
        keyEnv: env.KILN_SIGNING_KEY,
        configKey: request.configKey,
        projectPath: request.projectPath,
        cwd,
        paths: home,
      }),
    registries: (registry, { insecure }) =>
      createRegistryClient({
        registry,
        credentials: resolveCredentials({ registry, env }),
        insecure,
        env,
        onEvent: events,
      }),
    // The sandbox hides the Kiln home (keys, cache, store) and the registry credentials from every step; a build
    // adds its signing key file. The remote cache's credentials come from the environment, which steps never get.
    runners: (kind) =>
      chooseRunner(kind, {
        hidden: [home.home, home.keys, home.store, home.cache, home.oci, defaultDockerConfigPath(env) ?? []].flat(),
      }),
    now: opts.now ?? (() => new Date()),
    events,
    env,
    cwd,
    version: opts.version,
    parallelism: opts.parallelism ?? Math.max(1, availableParallelism()),
  };
}
