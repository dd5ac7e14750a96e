// API tokens of the control plane (`kiln tokens`, and the server's bearer check): random, shown once, kept as SHA-256.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { sha256Hex } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import {
  type ApiTokenRow,
  activeTokenByHash,
  recordToken,
  revokeToken as revokeStoredToken,
  listTokens as storedTokens,
} from '../store/index.js';
import type { KilnPorts } from './ports.js';

/** What a token may do; each scope includes the ones before it. */
export const TOKEN_SCOPES = ['read', 'trigger', 'admin'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** A token as listed: everything but its hash. */
export type TokenInfo = Omit<ApiTokenRow, 'token_sha256'>;

/** The prefix every token starts with, so a leaked one is recognisable (secret scanners, logs). */
const PREFIX = 'kiln_';

/**
 * A new token of `scope`: `kiln_` and 256 random bits (base64url). Only its SHA-256 is stored: a token has the
 * entropy of a key, so a plain hash cannot be reversed, and a lookup by hash needs no comparison of secrets.
 */
export async function createToken(
  ports: Pick<KilnPorts, 'store' | 'now'>,
  request: { readonly scope: string; readonly name?: string | undefined },
): Promise<{ readonly token: string; readonly info: TokenInfo }> {
  const scope = tokenScope(request.scope);
  const token = `${PREFIX}${randomBytes(32).toString('base64url')}`;
  const info: TokenInfo = {
    id: `tok_${randomBytes(8).toString('hex')}`,
    scope,
    name: request.name ?? '',
    created_at: ports.now().toISOString(),
    revoked_at: null,
  };
  await recordToken(await ports.store(), { ...info, token_sha256: sha256Hex(token) });
  return { token, info };
}

/** Every token, newest first, without hashes. */
export async function listTokens(ports: Pick<KilnPorts, 'store'>): Promise<TokenInfo[]> {
  return (await storedTokens(await ports.store())).map(({ token_sha256: _, ...info }) => info);
}

/** Revokes a token by id; a token that does not exist or is already revoked is KILN_NOT_FOUND. */
export async function revokeToken(ports: Pick<KilnPorts, 'store' | 'now'>, id: string): Promise<void> {
  if (!(await revokeStoredToken(await ports.store(), id, ports.now().toISOString()))) {
    throw new KilnError('KILN_NOT_FOUND', `no active API token has the id "${id}"`, {
      hint: 'list tokens with `kiln tokens list`; ids look like tok_0123456789abcdef',
    });
  }
}

/**
 * The token an `Authorization` header carries, if it is active and its scope includes `needed`: KILN_UNAUTHENTICATED
 * when there is none or it is unknown or revoked, KILN_FORBIDDEN when its scope is too narrow.
 */
export async function authenticate(
  ports: Pick<KilnPorts, 'store'>,
  authorization: string | undefined,
  needed: TokenScope,
): Promise<TokenInfo> {
  const presented = /^Bearer +(\S+)$/i.exec(authorization?.trim() ?? '')?.[1];
  if (presented === undefined) {
    throw new KilnError('KILN_UNAUTHENTICATED', 'this request needs a bearer token', {
      hint: 'send `Authorization: Bearer <token>`; create one with `kiln tokens create --scope read|trigger|admin`',
    });
  }
  const hash = sha256Hex(presented);
  const row = await activeTokenByHash(await ports.store(), hash);
  // Found by its hash; the comparison only guards against a store that answers with another row.
  if (!row || !timingSafeEqual(Buffer.from(row.token_sha256), Buffer.from(hash))) {
    throw new KilnError('KILN_UNAUTHENTICATED', 'the bearer token is unknown or revoked', {
      hint: 'create a token with `kiln tokens create`; `kiln tokens list` shows which are revoked',
    });
  }
  if (TOKEN_SCOPES.indexOf(row.scope) < TOKEN_SCOPES.indexOf(needed)) {
    throw new KilnError('KILN_FORBIDDEN', `token ${row.id} has scope "${row.scope}"; this request needs "${needed}"`, {
      hint: `create a token with --scope ${needed}`,
    });
  }
  const { token_sha256: _, ...info } = row;
  return info;
}

function tokenScope(scope: string): TokenScope {
  const found = TOKEN_SCOPES.find((s) => s === scope);
  if (found === undefined) {
    throw new KilnError('KILN_USAGE', `unknown token scope "${scope}"`, {
      hint: `give --scope ${TOKEN_SCOPES.join(', ')} (each includes the ones before it)`,
    });
  }
  return found;
}
