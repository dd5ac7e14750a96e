// Which credentials to use for a registry, and where they came from: flags, then env, then ~/.docker/config.json.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../../core/errors.js';
import { isRecord } from '../../core/json.js';
import type { RegistryCredentials } from './types.js';

/** Environment variables Kiln reads registry credentials from (both must be set). */
export const REGISTRY_USERNAME_ENV = 'KILN_REGISTRY_USERNAME';
export const REGISTRY_PASSWORD_ENV = 'KILN_REGISTRY_PASSWORD';

/** Inputs of the lookup; `readFile` returns undefined for a missing file (tests pass a fake). */
export interface ResolveCredentialsOptions {
  /** `host[:port]` as in a registry reference. */
  readonly registry: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Default: `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`. */
  readonly dockerConfigPath?: string;
  readonly username?: string;
  readonly password?: string;
  readonly readFile?: (path: string) => string | undefined;
}

/** Credentials for `registry` with their `source` (never the secret itself); anonymous when none are configured. */
export function resolveCredentials(opts: ResolveCredentialsOptions): RegistryCredentials {
  if (opts.username !== undefined || opts.password !== undefined) {
    return pair(opts.username, opts.password, 'the --username/--password flags', '--username and --password');
  }
  const envUser = nonEmpty(opts.env[REGISTRY_USERNAME_ENV]);
  const envPassword = nonEmpty(opts.env[REGISTRY_PASSWORD_ENV]);
  if (envUser !== undefined || envPassword !== undefined) {
    const source = `${REGISTRY_USERNAME_ENV}/${REGISTRY_PASSWORD_ENV}`;
    return pair(envUser, envPassword, `the environment (${source})`, `both ${source}`);
  }
  const configPath = opts.dockerConfigPath ?? defaultDockerConfigPath(opts.env);
  const checked = `flags, ${REGISTRY_USERNAME_ENV}/${REGISTRY_PASSWORD_ENV}${configPath ? `, ${configPath}` : ''}`;
  const text = configPath === undefined ? undefined : (opts.readFile ?? readIfExists)(configPath);
  if (text === undefined || configPath === undefined) return anonymous(`none found (checked ${checked})`);
  return fromDockerConfig(text, configPath, opts.registry) ?? anonymous(`none found (checked ${checked})`);
}

/** `$DOCKER_CONFIG/config.json` or `$HOME/.docker/config.json`, as the docker CLI looks them up. */
export function defaultDockerConfigPath(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const dir = nonEmpty(env.DOCKER_CONFIG);
  if (dir !== undefined) return join(dir, 'config.json');
  const home = nonEmpty(env.HOME);
  return home === undefined ? undefined : join(home, '.docker', 'config.json');
}

function fromDockerConfig(text: string, path: string, registry: string): RegistryCredentials | undefined {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    // No cause attached: JSON.parse quotes the text around the error, which may be a secret.
    throw new KilnError('KILN_CONFIG_INVALID', `${path} is not valid JSON`, {
      hint: 'fix or remove the file (docker login rewrites it)',
    });
  }
  const auths = isRecord(config) && isRecord(config.auths) ? config.auths : {};
  const key = Object.keys(auths).find((k) => registryKey(k) === registryKey(registry));
  const entry = key === undefined ? undefined : auths[key];
  const where = `${path} auths["${key}"]`;
  if (!isRecord(entry)) {
    const helper = isRecord(config) && (config.credsStore !== undefined || config.credHelpers !== undefined);
    return helper
      ? anonymous(`none usable: ${path} keeps them in a credential helper, which Kiln does not run`)
      : undefined;
  }
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') {
    return Object.freeze({ kind: 'token', token: entry.identitytoken, source: `${where}.identitytoken` });
  }
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) {
      throw new KilnError('KILN_CONFIG_INVALID', `${where}.auth is not base64 of "user:password"`, {
        hint: `run docker login ${registry} again, or set ${REGISTRY_USERNAME_ENV}/${REGISTRY_PASSWORD_ENV}`,
      });
    }
    return basic(decoded.slice(0, colon), decoded.slice(colon + 1), `${where}.auth`);
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string' && entry.username !== '') {
    return basic(entry.username, entry.password, `${where}.username/password`);
  }
  return undefined;
}

/** The registry part of an `auths` key: `https://index.docker.io/v1/` → `docker.io`, `HOST:5000` → `host:5000`. */
function registryKey(key: string): string {
  const host = key
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

function pair(
  user: string | undefined,
  password: string | undefined,
  source: string,
  both: string,
): RegistryCredentials {
  if (user === undefined || user === '' || password === undefined) {
    throw new KilnError(
      'KILN_USAGE',
      `registry credentials from ${source} are incomplete: a username and a password are both needed`,
      {
        hint: `set ${both}, or neither (then ~/.docker/config.json is used)`,
      },
    );
  }
  return basic(user, password, source);
}

function basic(username: string, password: string, source: string): RegistryCredentials {
  return Object.freeze({ kind: 'basic', username, password, source });
}

function anonymous(source: string): RegistryCredentials {
  return Object.freeze({ kind: 'anonymous', source });
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KilnError('KILN_IO', `cannot read ${path}: ${(err as Error).message}`, {
      hint: 'check the permissions of the docker config file',
      cause: err,
    });
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
