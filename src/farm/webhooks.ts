// What the webhook endpoints of `kiln serve --config` read of the server configuration and the store: the projects
// of a repository, their secrets (resolved when a delivery needs them, never logged), their ref filters, and the
// deliveries already acted on (one INSERT decides a delivery is new, so concurrent redeliveries queue once).
import {
  buildsRef,
  projectsForRepository,
  resolveSecret,
  type SecretRef,
  type SecretSources,
  type ServerConfig,
  type ServerProject,
} from '../config/index.js';
import { isKilnError } from '../core/errors.js';
import {
  claimWebhookDelivery,
  type DeliveredBuild,
  recordWebhookBuilds,
  releaseWebhookDelivery,
  type Store,
  webhookDelivery,
} from '../store/index.js';

/** A webhook sender, as in `/v1/webhooks/<source>`. */
export type WebhookSourceName = 'github' | 'gitlab' | 'standard';

/** The webhook endpoints' view of the server (structurally the server's WebhookPorts). */
export interface WebhookIntake {
  readonly maxBodyBytes: number;
  projectsOf(url: string): readonly string[];
  secret(project: string, source: WebhookSourceName): Promise<string | undefined>;
  buildsRef(project: string, ref: string): boolean;
  claim(source: WebhookSourceName, delivery: string): Promise<boolean>;
  recorded(source: WebhookSourceName, delivery: string): Promise<readonly DeliveredBuild[]>;
  record(source: WebhookSourceName, delivery: string, builds: readonly DeliveredBuild[]): Promise<void>;
  release(source: WebhookSourceName, delivery: string): Promise<void>;
}

/** The secret reference a project configures for `source`, if any. */
export function webhookSecretRef(project: ServerProject, source: WebhookSourceName): SecretRef | undefined {
  if (source === 'github') return project.webhooks.github?.secret;
  if (source === 'gitlab') return project.webhooks.gitlab?.token;
  return project.webhooks.standard?.secret;
}

/** The webhook intake over `config` and `store`; secrets are read from `secrets` at each delivery (rotation works). */
export function webhookIntake(deps: {
  readonly config: ServerConfig;
  readonly store: Store;
  readonly secrets: SecretSources;
  readonly now?: () => Date;
  /** Where a secret that cannot be read is reported. */
  readonly log: (message: string) => void;
}): WebhookIntake {
  const { config, store, secrets, log } = deps;
  const now = deps.now ?? (() => new Date());
  const projectNamed = (name: string) => config.projects.find((p) => p.name === name);
  return {
    maxBodyBytes: config.limits.webhookBodyBytes,
    projectsOf: (url) => projectsForRepository(config, url).map((p) => p.name),
    secret: async (name, source) => {
      const project = projectNamed(name);
      const ref = project && webhookSecretRef(project, source);
      if (ref === undefined) return undefined;
      // A secret that cannot be read is the operator's to fix: said in the server log (the message names the variable
      // or file, never a value), not to the sender; that project then verifies nothing, and the others still work.
      return resolveSecret(ref, secrets).catch((err: unknown) => {
        if (!isKilnError(err)) throw err;
        log(`a ${source} webhook delivery cannot be verified for ${err.message}`);
        return undefined;
      });
    },
    buildsRef: (name, ref) => {
      const project = projectNamed(name);
      return project !== undefined && buildsRef(project, ref);
    },
    claim: (source, delivery) => claimWebhookDelivery(store, source, delivery, now().toISOString()),
    recorded: async (source, delivery) => (await webhookDelivery(store, source, delivery))?.builds ?? [],
    record: (source, delivery, builds) => recordWebhookBuilds(store, source, delivery, builds),
    release: (source, delivery) => releaseWebhookDelivery(store, source, delivery),
  };
}
