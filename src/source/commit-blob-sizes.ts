// What git says about a commit's blobs without reading them: the repository's object format and each blob's size.
// The blob memo (plan/blob-memo.ts) keys by the first and checks every remembered digest against the second.
import { type GitEnv, git } from './git.js';

/** The object format of the repository ('sha1' or 'sha256', as git names it) and the size of each blob. */
export interface CommitBlobSizes {
  readonly format: string;
  /** git's size in bytes of every blob of the commit under the project directory, by blob id. */
  readonly sizes: ReadonlyMap<string, number>;
}

/** The object format and blob sizes of `commit` under `subdir`, from `git rev-parse` and one `git ls-tree -l`. */
export async function commitBlobSizes(
  repoRoot: string,
  commit: string,
  subdir: string,
  env: GitEnv,
): Promise<CommitBlobSizes> {
  const [format, listing] = await Promise.all([
    git(repoRoot, ['rev-parse', '--show-object-format'], env),
    git(repoRoot, ['ls-tree', '-r', '-z', '-l', '--full-tree', commit, ...(subdir ? ['--', subdir] : [])], env),
  ]);
  return { format: format.trim(), sizes: parseSizes(listing) };
}

/** `<mode> blob <id> <padded size>\t<path>` records → id → size; anything else (submodules, odd lines) is skipped. */
export function parseSizes(listing: string): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const record of listing.split('\0')) {
    const tab = record.indexOf('\t');
    if (tab < 0) continue;
    const [, type, blob, size] = record.slice(0, tab).split(/ +/);
    if (type !== 'blob' || !blob || !size || !/^\d+$/.test(size)) continue;
    sizes.set(blob, Number(size));
  }
  return sizes;
}
