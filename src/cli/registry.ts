// Help text shared by the commands that talk to registries.

/** Where registry credentials come from, and when plain http is allowed. */
export const REGISTRY_HELP = `credentials: $KILN_REGISTRY_USERNAME and $KILN_REGISTRY_PASSWORD, else the registry's entry in
~/.docker/config.json (auths: auth, username/password or identitytoken), else anonymous.
Plain http is used only for loopback registries (127.0.0.1, localhost) unless --insecure-registry.`;
