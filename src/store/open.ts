// The one way in to the store, whichever engine holds it: the location says which.
import { isPostgresUrl } from './postgres-url.js';
import { openSqliteStore, type Store } from './store.js';

/** Opens the store at `location`: a postgres:// or postgresql:// URL is a PostgreSQL database, anything else a SQLite file. */
export async function openStore(location: string): Promise<Store> {
  // The PostgreSQL client is loaded only for a PostgreSQL store.
  if (isPostgresUrl(location)) return (await import('./postgres.js')).openPostgresStore(location);
  return openSqliteStore(location);
}
