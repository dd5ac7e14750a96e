import { globMatches } from '../../core/glob.js';

// Which pushed refs a project builds: branch and tag filters as globs (`main`, `release/*`, `v*`), where `*` stays
// within one path segment and `**` crosses them. Pure, so the config rules and the receivers share it.

/** A project's filters; an absent or empty list admits nothing of that kind. */
export interface RefFilters {
  readonly branches?: readonly string[] | undefined;
  readonly tags?: readonly string[] | undefined;
}

/** What a ref is, its short name, and whether the filters admit it. */
export interface RefMatch {
  readonly admitted: boolean;
  readonly kind: 'branch' | 'tag' | 'other';
  /** `main` for `refs/heads/main`, `v1.2.0` for `refs/tags/v1.2.0`, the ref itself for any other. */
  readonly name: string;
  /** The first glob that admitted it. */
  readonly glob: string | undefined;
}

const BRANCH = 'refs/heads/';
const TAG = 'refs/tags/';

/** Whether `filters` admit the full ref `ref` (branches by `branches`, tags by `tags`; any other ref never). */
export function refMatches(ref: string, filters: RefFilters): RefMatch {
  const kind = ref.startsWith(BRANCH) ? 'branch' : ref.startsWith(TAG) ? 'tag' : 'other';
  if (kind === 'other' || !isValidRef(ref)) return { admitted: false, kind: 'other', name: ref, glob: undefined };
  const name = ref.slice(kind === 'branch' ? BRANCH.length : TAG.length);
  const globs = (kind === 'branch' ? filters.branches : filters.tags) ?? [];
  const glob = globs.find((g) => globMatches(g, name));
  return { admitted: glob !== undefined, kind, name, glob };
}

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
  return ref.startsWith('refs/') ? ref : `${BRANCH}${ref}`;
}
