// kiln-server.yaml's secrets read once when a server or worker starts, so its log redacts each of them from its first
// line, not only from the first time the secret is used. A secret that cannot be read is skipped here: the webhook,
// fetch or notification that needs it reports the problem when it comes.
import { resolveSecret, type SecretSources, type ServerConfig, secretRefsOf } from '../config/index.js';

/** Reads every secret the file references (each read value reaches `sources.onSecret`). */
export async function readAllSecrets(config: Pick<ServerConfig, 'projects'>, sources: SecretSources): Promise<void> {
  const refs = config.projects.flatMap(secretRefsOf);
  await Promise.all(refs.map((ref) => resolveSecret(ref, sources).catch(() => undefined)));
}
