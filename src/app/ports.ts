// The ports every use case runs over: all Kiln touches of the world, handed in by whoever composes it (the CLI's
// embedded defaults, a worker, a test harness). Use cases never open, print, read process state or exit themselves.
import type { ResolvedSigner } from '../attest/signing-key.js';
import type { EventSink } from '../core/events.js';
import type { KilnPaths } from '../core/home.js';
import type { RegistryClient } from '../registry/remote/types.js';
import type { ArtifactTarget } from '../registry/target.js';
import type { StepRunner } from '../sandbox/index.js';
import type { Store } from '../store/index.js';

/** Environment variables, as Kiln reads them (PATH for git and steps, KILN_WORK_DIR, KILN_REMOTE_CACHE, …). */
export type Env = Readonly<Record<string, string | undefined>>;

/** Which signing key a use case wants: the user's `--key`, kiln.yaml's `signing.key`, relative to the project. */
export interface SignerRequest {
  readonly flag?: string | undefined;
  readonly configKey?: string | undefined;
  readonly projectPath: string;
}

/** Resolves the signer for a request (file keys by default; a KMS signer or a test key elsewhere). */
export type SignerSource = (request: SignerRequest) => Promise<ResolvedSigner>;

/** A client for one registry (`host[:port]`); plain http only to loopback unless `insecure`. */
export type RegistryClients = (registry: string, opts: { readonly insecure: boolean }) => RegistryClient;

/** How steps run: `bubblewrap` (the default sandbox) or `host` (no isolation; provenance says so). */
export type RunnerKind = 'bubblewrap' | 'host';

/** The step runner of a kind, undefined meaning the default. */
export type RunnerFactory = (kind: RunnerKind | undefined) => StepRunner;

/** The cache tiers: the local CAS in the Kiln home, and the remote tier's default (kiln.yaml `cache.remote` wins). */
export interface CacheTiers {
  readonly localDir: string;
  readonly remote: { readonly url?: string | undefined; readonly authorization?: string | undefined };
}

/** Everything a use case may use. */
export interface KilnPorts {
  /** Kiln's local state: logs, work dirs, keys, memos (see core/home.ts). */
  readonly home: KilnPaths;
  /** The provenance store, opened on first use and shared by every use case of this Kiln. */
  readonly store: () => Promise<Store>;
  /** Where builds publish artifacts and evidence. */
  readonly artifacts: ArtifactTarget;
  readonly cache: CacheTiers;
  readonly signer: SignerSource;
  readonly registries: RegistryClients;
  readonly runners: RunnerFactory;
  readonly now: () => Date;
  readonly events: EventSink;
  readonly env: Env;
  /** Where relative paths a user gave are resolved. */
  readonly cwd: string;
  /** Kiln's own version (recorded in SBOMs, provenance and build fingerprints). */
  readonly version: string;
  /** How many steps may run at once. */
  readonly parallelism: number;
}
