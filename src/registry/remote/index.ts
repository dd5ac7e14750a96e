// Public API of the OCI distribution client (re-exported by src/registry/index.ts).
export { type AuthChallenge, parseChallenge } from './challenge.js';
export { createRegistryClient } from './client.js';
export {
  defaultDockerConfigPath,
  REGISTRY_PASSWORD_ENV,
  REGISTRY_USERNAME_ENV,
  type ResolveCredentialsOptions,
  resolveCredentials,
} from './credentials.js';
export { isLoopbackHost, registryEndpoint } from './http.js';
export { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, MANIFEST_ACCEPT, MANIFEST_MAX_BYTES } from './manifests.js';
export { formatRegistryRef, parseRegistryRef } from './ref.js';
export { backoffDelay, DEFAULT_RETRY, type RetryPolicy } from './retry.js';
export type { RegistryClientOptions } from './session.js';
export type { FetchedManifest, RegistryClient, RegistryCredentials, RegistryRef } from './types.js';
