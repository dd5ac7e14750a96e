// pnpm dependency paths (`/react-dom@18.2.0(react@18.2.0)` in lockfile 6.0, `react-dom@18.2.0(react@18.2.0)` in 9.0):
// how a dependency's reference names a `packages`/`snapshots` key, and the package identity inside a key.

/** The two lockfile formats Kiln reads: pnpm 8 writes '6.0', pnpm 9 and 10 write '9.0'. */
export type PnpmLockfileVersion = '6.0' | '9.0';

/**
 * The key a dependency's reference (`version` in importers, the value in `dependencies`) points at, as pnpm's
 * `refToRelative` computes it; undefined for `link:` references, which point at directories instead.
 */
export function depPathOfRef(format: PnpmLockfileVersion, ref: string, name: string): string | undefined {
  if (ref.startsWith('link:')) return undefined;
  if (format === '6.0') {
    if (ref.startsWith('file:')) return ref;
    // `2.0.0` and `18.2.0(react@18.2.0)` are versions of `name`; `/string-width@4.2.3` (an alias) and
    // `github.com/user/repo/sha` are keys already.
    return ref.replace(/(\([^)]+\))+$/, '').includes('/') ? ref : `/${name}@${ref}`;
  }
  if (ref.startsWith('@')) return ref;
  const at = ref.indexOf('@');
  if (at === -1) return `${name}@${ref}`;
  const colon = ref.indexOf(':');
  const paren = ref.indexOf('(');
  const isKey = (colon === -1 || at < colon) && (paren === -1 || at < paren); // `string-width@4.2.3`: an alias
  return isKey ? ref : `${name}@${ref}`;
}

/**
 * A key without its peer-dependency (and patch-hash) suffix: `react-dom@18.2.0(react@18.2.0)` → `react-dom@18.2.0`.
 * Scans balanced parentheses from the end, as pnpm's `removeSuffix` does, so nested suffixes come off whole.
 */
export function removePeersSuffix(depPath: string): string {
  if (!depPath.endsWith(')')) return depPath;
  let open = 1;
  for (let i = depPath.length - 2; i >= 0; i--) {
    const c = depPath[i];
    if (c === '(') open--;
    else if (c === ')') open++;
    else if (open === 0) return depPath.slice(0, i + 1);
  }
  return depPath;
}

/**
 * The package name and version a key spells (`/@types/ms@2.1.0` → `@types/ms`, `2.1.0`), or undefined for keys
 * that are not `name@version` (6.0 `github.com/…` and `file:` keys, whose entries carry `name` and `version`).
 * A version that is a URL or path (9.0 `foo@https://…`, `foo@file:…`) is not one: it comes back as ''.
 */
export function packageIdOf(
  format: PnpmLockfileVersion,
  depPath: string,
): { name: string; version: string } | undefined {
  let id = removePeersSuffix(depPath);
  if (format === '6.0') {
    if (!id.startsWith('/')) return undefined;
    id = id.slice(1);
  }
  const at = id.indexOf('@', 1);
  if (at <= 0) return undefined;
  const version = id.slice(at + 1);
  return { name: id.slice(0, at), version: /[:/]/.test(version) ? '' : version };
}
