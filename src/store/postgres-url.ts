// PostgreSQL URLs as the store reads and shows them: light, so that recognising one does not load the client.

/** Whether `location` names a PostgreSQL database (a postgres:// or postgresql:// URL) rather than a SQLite file. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** `url` with its password replaced by `***` (and nothing else changed): the only form of it messages may show. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    // Unparseable: show the scheme and host part only when a userinfo part is visible, else nothing of it.
    return url.replace(/^([a-z]+:\/\/[^:/@]*):[^@]*@/i, '$1:***@');
  }
}
