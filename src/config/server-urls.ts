// The URLs of kiln-server.yaml: what each key accepts, and one normal form of a repository URL, so that only
// configured repositories are ever fetched (a webhook or API call naming any other is refused).

/** Schemes a repository may be fetched with: the git transports that need no shell account. */
export const REPOSITORY_SCHEMES = ['file:', 'http:', 'https:', 'git:'] as const;

const CREDENTIALS_HINT =
  'write the URL without them and give credentials: { username: NAME, password: { env: VAR } } (http and https only)';

/** Why `text` cannot be a project's repository, or undefined. Never quotes the URL (it may hold a password). */
export function repositoryProblem(text: string): string | undefined {
  // The URL parser drops tabs and newlines anywhere: `git.exa\nmple.com` would quietly become another host.
  if (/\s/.test(text) || [...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    return 'a URL has no spaces or control characters';
  }
  const url = parse(text);
  if (!url) return 'expected a URL such as https://git.example.com/team/app.git or file:///srv/git/app.git';
  if (!(REPOSITORY_SCHEMES as readonly string[]).includes(url.protocol)) {
    const ssh = url.protocol === 'ssh:' ? ' (ssh needs a shell account and keys; use https with credentials)' : '';
    return `scheme "${url.protocol.slice(0, -1)}" is not accepted${ssh}: use file://, http://, https:// or git://`;
  }
  if (url.username !== '' || url.password !== '') return `credentials inside the URL are refused: ${CREDENTIALS_HINT}`;
  if (url.search !== '' || url.hash !== '') return 'a repository URL has no query or fragment ("?" or "#")';
  if (url.protocol === 'file:' && url.hostname !== '' && url.hostname !== 'localhost') {
    return 'a file:// URL names a path on this machine: file:///srv/git/app.git (three slashes)';
  }
  if (url.protocol !== 'file:' && url.hostname === '') return 'the URL names no host';
  if (normalPath(url) === '') return 'the URL names no repository path';
  return undefined;
}

/** Why `text` cannot be a notification target (http or https, no credentials), or undefined. */
export function httpTargetProblem(text: string): string | undefined {
  const url = parse(text);
  if (!url) return 'expected an http:// or https:// URL';
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `scheme "${url.protocol.slice(0, -1)}" is not accepted: notifications are POSTed to http:// or https:// URLs`;
  }
  if (url.username !== '' || url.password !== '') {
    return 'credentials inside the URL are refused: the receiver checks the signature made with "secret" instead';
  }
  return undefined;
}

/**
 * Why `text` cannot be the GitHub API URL commit statuses are POSTed to, or undefined: https, or plain http on
 * loopback only (the request carries the token).
 */
export function statusesApiProblem(text: string): string | undefined {
  const url = parse(text);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    return 'expected an https:// URL, e.g. https://api.github.com or https://ghe.example.com/api/v3';
  }
  if (url.protocol === 'http:' && !isLoopback(text)) {
    return 'plain http would send the token in clear: use https:// (http only on 127.0.0.1, localhost or [::1])';
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    return 'the API URL has no credentials, query or fragment: the token is given by "token"';
  }
  return undefined;
}

/** `owner/repo` as GitHub names a repository (its URL's last two path parts); undefined for another URL form. */
export function githubRepositoryOf(text: string): { owner: string; repo: string } | undefined {
  const url = parse(text);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) return undefined;
  const parts = normalPath(url).split('/');
  const [owner, repo] = parts;
  return parts.length === 2 && owner && repo ? { owner, repo } : undefined;
}

/** Why `text` cannot be the database URL, or undefined. */
export function databaseProblem(text: string): string | undefined {
  const url = parse(text);
  if (!url || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')) {
    return 'expected a postgres:// or postgresql:// URL (leave "database" out for the embedded SQLite store)';
  }
  if (url.password !== '') {
    return 'a password inside the URL is refused: leave it out and set PGPASSWORD in the server environment, or use a ~/.pgpass file';
  }
  return undefined;
}

/** `host:port` (`[::1]:8080` for IPv6) as its parts, or undefined. */
export function parseListen(text: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (!m?.[1] || !(port >= 0 && port <= 65535)) return undefined;
  return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port };
}

/**
 * The one form of a repository URL that two spellings of the same repository share: lower-case scheme and host,
 * default port dropped, no trailing "/" or ".git". The path keeps its case (most git servers are case-sensitive).
 * Undefined for text that is not an accepted repository URL.
 */
export function normalRepository(text: string): string | undefined {
  const url = parse(text);
  if (!url || repositoryProblem(text) !== undefined) return undefined;
  // git: is not a scheme the URL parser knows, so it neither lower-cases the host nor drops the default port.
  const host = url.host.toLowerCase().replace(url.protocol === 'git:' ? /:9418$/ : /^$/, '');
  return `${url.protocol}//${host}/${normalPath(url)}`;
}

/** A true URL is on the loopback interface (where plain http hides nothing from the network). */
export function isLoopback(text: string): boolean {
  const host = parse(text)?.hostname ?? '';
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function normalPath(url: URL): string {
  return url.pathname
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .replace(/\/+$/, '')
    .replace(/^\/+/, '');
}

function parse(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
