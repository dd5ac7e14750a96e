// API tokens in the store: written once, revoked by setting revoked_at, looked up by the SHA-256 of the token.
import type { Insertable } from 'kysely';
import type { ApiTokenRow, ApiTokensTable } from './schema.js';
import type { Store } from './store.js';

/** Records a new token (its hash only). */
export async function recordToken(store: Store, row: Insertable<ApiTokensTable>): Promise<void> {
  await store.db.insertInto('api_tokens').values(row).execute();
}

/** Every token, newest first, revoked ones too. */
export async function listTokens(store: Store): Promise<ApiTokenRow[]> {
  return store.db.selectFrom('api_tokens').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
}

/** The token whose SHA-256 is `sha256`, unless revoked. */
export async function activeTokenByHash(store: Store, sha256: string): Promise<ApiTokenRow | undefined> {
  return store.db
    .selectFrom('api_tokens')
    .selectAll()
    .where('token_sha256', '=', sha256)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

/** Revokes the token `id` at `at`; returns false when there is no such token or it was already revoked. */
export async function revokeToken(store: Store, id: string, at: string): Promise<boolean> {
  const r = await store.db
    .updateTable('api_tokens')
    .set({ revoked_at: at })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}
