// The PostgreSQL store a command is pointed at (`--database`, KILN_DATABASE): checked here, opened by the app layer.
import { KilnError } from '../core/errors.js';

/**
 * `value` when it is a postgres:// or postgresql:// URL (undefined stays undefined); `where` names the flag or
 * variable it came from. The message never repeats the value: it may hold a password.
 */
export function checkedDatabase(where: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let ok = false;
  try {
    ok = ['postgres:', 'postgresql:'].includes(new URL(value).protocol);
  } catch {}
  if (!ok) {
    throw new KilnError('KILN_USAGE', `${where} must be a postgres:// or postgresql:// URL`, {
      hint: 'e.g. postgres://kiln@db.internal:5432/kiln (the password in PGPASSWORD or ~/.pgpass); leave it out for the SQLite store of KILN_HOME',
    });
  }
  return value;
}
