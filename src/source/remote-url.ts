// A remote repository's URL as Kiln fetches, keys and records it: credentials taken out, the rest normalized.
import { createHash } from 'node:crypto';
import { KilnError } from '../core/errors.js';

/** A user name and password (or token) for a repository served over HTTP(S); never written anywhere. */
export interface GitCredentials {
  readonly username: string;
  readonly password: string;
}

/** The URL without userinfo (what is fetched, stored and recorded) and the credentials the userinfo held, if any. */
export interface RemoteUrl {
  readonly url: string;
  readonly credentials: GitCredentials | undefined;
}

const SCHEMES = new Set(['file:', 'http:', 'https:', 'git:']);

/**
 * Splits `repository` into its credential-free normalized URL (lower-case scheme and host, no default port, no
 * trailing slash) and the credentials of its userinfo. Only file, http, https and git URLs are accepted; a query or
 * fragment is refused (it could carry a token that would then be recorded).
 */
export function parseRemoteUrl(repository: string): RemoteUrl {
  let parsed: URL;
  try {
    parsed = new URL(repository);
  } catch {
    throw usage(`repository URL "${withoutUserinfo(repository)}" is not a URL`);
  }
  if (!SCHEMES.has(parsed.protocol)) {
    throw usage(`repository URL ${withoutUserinfo(repository)} has scheme ${parsed.protocol.slice(0, -1)}`);
  }
  if (parsed.search || parsed.hash) {
    throw usage(`repository URL ${withoutUserinfo(repository)} has a query or fragment`);
  }
  const credentials =
    parsed.username || parsed.password
      ? { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) }
      : undefined;
  parsed.username = '';
  parsed.password = '';
  const url = parsed.href.replace(/\/+$/, '');
  if (parsed.protocol !== 'file:' && (!parsed.hostname || parsed.pathname.replace(/\/+$/, '') === '')) {
    throw usage(`repository URL ${url} names no host or no repository path`);
  }
  return Object.freeze({ url, credentials });
}

/** The mirror's directory name for a credential-free URL: 32 hex digits of its sha256. */
export function mirrorName(url: string): string {
  return `${createHash('sha256').update(url).digest('hex').slice(0, 32)}.git`;
}

/** `scheme://user:secret@host/…` → `scheme://host/…`, for messages about a URL that could not be parsed. */
function withoutUserinfo(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/]*@/i, '$1');
}

function usage(message: string): KilnError {
  return new KilnError('KILN_USAGE', message, {
    hint: 'pass a repository URL such as https://host/owner/repo.git, git://host/repo.git or file:///path/to/repo (credentials come from the configuration, not the URL, wherever possible)',
  });
}
