// Git ref names as pushes carry them: which full names git accepts, and the full name of what a sender wrote. Pure, so
// the webhook receivers and kiln-server.yaml's branch and tag filters judge refs alike.

/**
 * A full ref name git accepts (`git check-ref-format`): under `refs/`, no empty, `.`-led or `.lock`-ended component,
 * no `..`, `@{`, `//`, control characters, spaces or any of `~^:?*[\`, not ending in `/` or `.`, and at most 1024
 * characters.
 */
export function isValidRef(ref: string): boolean {
  if (ref.length > 1024 || !ref.startsWith('refs/')) return false;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what git refuses in a ref
  if (/[\u0000-\u0020\u007f~^:?*[\\]/.test(ref)) return false;
  if (ref.includes('..') || ref.includes('@{') || ref.endsWith('.') || ref === '@') return false;
  return ref.split('/').every((part) => part !== '' && !part.startsWith('.') && !part.endsWith('.lock'));
}

/** The full ref for what a sender wrote: `refs/heads/x` or `refs/tags/x` as given, a bare name as a branch. */
export function fullRef(ref: string): string {
  return ref.startsWith('refs/') ? ref : `refs/heads/${ref}`;
}
