// What a promotion works with once the request is resolved: clients, the signer, the policy, the store.
import type { Signer } from '../../attest/index.js';
import type { EnvironmentConfig, PolicyConfig } from '../../config/index.js';
import type { Digest } from '../../core/digest.js';
import type { EventSink } from '../../core/events.js';
import type { RegistryClient } from '../../registry/remote/types.js';
import type { Store } from '../../store/index.js';

/** predicateType of Kiln's promotion statement. */
export const PROMOTION_PREDICATE = 'https://kiln.dev/promotion/v1';

/** Everything a promotion needs, resolved from the request and the ports. */
export interface PromoteInput {
  readonly source: { readonly client: RegistryClient; readonly repository: string; readonly reference: string };
  readonly environment: {
    readonly name: string;
    readonly config: EnvironmentConfig;
    readonly client: RegistryClient;
    readonly repository: string;
  };
  readonly project: string;
  readonly policy: PolicyConfig;
  /** Reads a project file (the policy's VEX documents). */
  readonly readProjectFile: (relPath: string) => Promise<Buffer>;
  readonly store: Store;
  readonly signer: Signer;
  /** The key the artifact's evidence must verify with. */
  readonly trustedKeyPem: string;
  readonly workDir: string;
  readonly now: () => Date;
  readonly emit: EventSink;
}

/** What was promoted where. */
export interface PromotionResult {
  readonly digest: Digest;
  readonly from: string;
  readonly to: string;
  readonly tag: string;
  readonly statement: Digest;
}
