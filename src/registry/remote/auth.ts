// Registry authentication: anonymous first, then Basic or the Bearer token flow the 401 challenge asks for.
import { KilnError } from '../../core/errors.js';
import { parseChallenge } from './challenge.js';
import { type CallContext, isTransientStatus, statusError, transientResponse } from './failures.js';
import {
  ConnectionError,
  type HttpRequest,
  type HttpResponse,
  isTransientConnection,
  type SendOptions,
  send,
} from './http.js';
import { TransientFailure } from './retry.js';
import type { RegistryCredentials } from './types.js';

/** Sends registry requests with whatever authorization the registry asked for, caching bearer tokens per scope. */
export interface Authenticator {
  /** `scopes` are token scopes such as `repository:team/app:pull,push`; one re-authentication on a 401. */
  /** Sends `req` with the credentials the registry asks for; `onExchange` hears every HTTP exchange it took. */
  send(
    req: HttpRequest,
    scopes: readonly string[],
    ctx: CallContext,
    maxBytes: number,
    onExchange?: SendOptions['onExchange'],
  ): Promise<HttpResponse>;
}

/** Everything the authenticator needs; `origin` is the only origin credentials are sent to (besides the realm). */
export interface AuthenticatorOptions {
  readonly origin: string;
  readonly credentials: RegistryCredentials;
  readonly transport: Omit<SendOptions, 'maxBytes' | 'authorization' | 'authOrigin'>;
  readonly now: () => number;
}

type Mode =
  | { readonly kind: 'unknown' }
  | { readonly kind: 'basic' }
  | { readonly kind: 'bearer'; readonly realm: string; readonly service?: string | undefined };

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

/** Tokens live `expires_in` seconds, 60 when the service does not say (distribution token spec). */
const DEFAULT_TOKEN_SECONDS = 60;
const TOKEN_MAX_BYTES = 1 << 20;

/** An authenticator for one registry and one set of credentials. */
export function createAuthenticator(opts: AuthenticatorOptions): Authenticator {
  let mode: Mode = { kind: 'unknown' };
  const tokens = new Map<string, Promise<CachedToken>>();
  const { credentials } = opts;

  async function authorization(
    scopes: readonly string[],
    ctx: CallContext,
    onExchange: SendOptions['onExchange'],
  ): Promise<string | undefined> {
    if (mode.kind === 'basic' && credentials.kind === 'basic') return basicHeader(credentials);
    if (mode.kind !== 'bearer') return undefined;
    const key = scopeKey(scopes);
    let cached = tokens.get(key);
    const current = cached ? await cached.catch(() => undefined) : undefined;
    if (!cached || !current || current.expiresAt <= opts.now()) {
      cached = fetchToken(mode, key.split(' '), ctx, onExchange);
      tokens.set(key, cached);
      cached.catch(() => tokens.get(key) === cached && tokens.delete(key));
    }
    return `Bearer ${(await cached).token}`;
  }

  async function fetchToken(
    bearer: Mode & { kind: 'bearer' },
    scopes: readonly string[],
    ctx: CallContext,
    onExchange: SendOptions['onExchange'],
  ): Promise<CachedToken> {
    const url = new URL(bearer.realm);
    const realm = `${url.origin}${url.pathname}`;
    let req: HttpRequest;
    if (credentials.kind === 'token') {
      // OAuth2 refresh-token grant (distribution docs, "OAuth2 Token Authentication"): an identity token is a refresh token.
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: credentials.token,
        client_id: 'kiln',
      });
      if (bearer.service !== undefined) form.set('service', bearer.service);
      form.set('scope', scopes.join(' '));
      req = {
        method: 'POST',
        url: url.href,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(form.toString()),
      };
    } else {
      if (bearer.service !== undefined) url.searchParams.append('service', bearer.service);
      for (const scope of scopes) if (scope !== '') url.searchParams.append('scope', scope);
      req = { method: 'GET', url: url.href };
    }
    const auth = credentials.kind === 'basic' ? basicHeader(credentials) : undefined;
    const tokenCtx: CallContext = { ...ctx, registry: `${ctx.registry} (token service ${realm})` };
    let res: HttpResponse;
    try {
      res = await send(req, {
        ...opts.transport,
        maxBytes: TOKEN_MAX_BYTES,
        authorization: auth,
        authOrigin: url.origin,
        onExchange,
      });
    } catch (err) {
      if (!(err instanceof ConnectionError)) throw err;
      const build = (attempts: number): KilnError =>
        new KilnError(
          'KILN_REGISTRY_AUTH',
          `cannot reach the token service ${realm} of registry ${ctx.registry} (${err.code})${attempts > 1 ? ` after ${attempts} attempts` : ''}`,
          {
            hint: 'the registry names this service in its WWW-Authenticate challenge; check that it is reachable from here',
            cause: err,
          },
        );
      throw isTransientConnection(err) ? new TransientFailure(err.code, build) : build(1);
    }
    if (isTransientStatus(res.status)) throw transientResponse(res, tokenCtx, opts.now());
    if (res.status !== 200) throw statusError(res, tokenCtx);
    // Renewed a little early (at 90% of its life) so it does not expire between check and use.
    return { token: tokenOf(res, realm), expiresAt: opts.now() + expiresIn(res) * 900 };
  }

  return {
    async send(req, scopes, ctx, maxBytes, onExchange) {
      const attempt = async (header: string | undefined): Promise<HttpResponse> =>
        send(req, { ...opts.transport, maxBytes, authorization: header, authOrigin: opts.origin, onExchange });
      const first = await authorization(scopes, ctx, onExchange);
      const res = await attempt(first);
      if (res.status !== 401) return res;
      const challenge = parseChallenge(res.headers.get('www-authenticate'));
      if (challenge === undefined) return res;
      let retryScopes = scopes;
      if (challenge.kind === 'basic') {
        if (credentials.kind !== 'basic' || first?.startsWith('Basic ')) return res;
        mode = { kind: 'basic' };
      } else {
        mode = { kind: 'bearer', realm: challenge.realm, service: challenge.service };
        const asked = challenge.scope;
        if (asked !== undefined && !asked.split(' ').every((one) => covered(scopes, one)))
          retryScopes = [...scopes, asked];
        tokens.delete(scopeKey(retryScopes)); // A cached token was refused: fetch a fresh one.
      }
      return attempt(await authorization(retryScopes, ctx, onExchange));
    },
  };
}

/** The token cache key of a set of scopes (order and duplicates do not matter). */
function scopeKey(scopes: readonly string[]): string {
  return [...new Set(scopes)].sort().join(' ');
}

/** True when one of `scopes` already grants everything `asked` (`type:name:actions`) asks for. */
function covered(scopes: readonly string[], asked: string): boolean {
  const split = (scope: string): [string, Set<string>] => {
    const at = scope.lastIndexOf(':');
    return [scope.slice(0, at), new Set(scope.slice(at + 1).split(','))];
  };
  const [resource, actions] = split(asked);
  return scopes.some((scope) => {
    const [mine, granted] = split(scope);
    return mine === resource && [...actions].every((a) => granted.has(a));
  });
}

function tokenOf(res: HttpResponse, realm: string): string {
  let body: unknown;
  try {
    body = JSON.parse(res.body.toString('utf8'));
  } catch {
    body = undefined;
  }
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const token = typeof record.token === 'string' && record.token !== '' ? record.token : record.access_token;
  if (typeof token !== 'string' || !/^[\x21-\x7e]{1,16384}$/.test(token)) {
    throw new KilnError(
      'KILN_REGISTRY_AUTH',
      `token service ${realm} answered 200 without a usable "token" or "access_token"`,
      {
        hint: 'the token service is not speaking the distribution token protocol; check the realm the registry names',
      },
    );
  }
  return token;
}

function expiresIn(res: HttpResponse): number {
  try {
    const value = (JSON.parse(res.body.toString('utf8')) as { expires_in?: unknown }).expires_in;
    return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : DEFAULT_TOKEN_SECONDS;
  } catch {
    return DEFAULT_TOKEN_SECONDS;
  }
}

function basicHeader(credentials: { readonly username: string; readonly password: string }): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}
