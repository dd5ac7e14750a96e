// The one way in to the store, whichever engine holds it: the location says which.
import { isPostgresUrl, openPostgresStore } from './postgres.js';
import { openSqliteStore, type Store } from './store.js';

/** Opens the store at `location`: a postgres:// or postgresql:// URL is a PostgreSQL database, anything else a SQLite file. */
export async function openStore(location: string): Promise<Store> {
  return isPostgresUrl(location) ? openPostgresStore(location) : openSqliteStore(location);
}
