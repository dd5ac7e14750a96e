// The registry client a command talks through: credentials from the environment or ~/.docker/config.json.
import { createRegistryClient, type RegistryClient, resolveCredentials } from '../registry/remote/index.js';
import type { CliContext } from './context.js';

/** A client for `registry` with the user's credentials; plain http only for loopback unless `insecure`. */
export async function registryClient(ctx: CliContext, registry: string, insecure: boolean): Promise<RegistryClient> {
  const credentials = await resolveCredentials({ registry, env: ctx.env });
  return createRegistryClient({ registry, credentials, insecure, env: ctx.env });
}

/** Help text shared by the commands that talk to registries. */
export const REGISTRY_HELP = `credentials: $KILN_REGISTRY_USERNAME and $KILN_REGISTRY_PASSWORD, else the registry's entry in
~/.docker/config.json (auths: auth, username/password or identitytoken), else anonymous.
Plain http is used only for loopback registries (127.0.0.1, localhost) unless --insecure-registry.`;
