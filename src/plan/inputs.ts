// Declared inputs → the exact, sorted list of files they match, each with its digest (an action key ingredient).
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { type Digest, sha256Digest, sha256File } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import { globSource } from '../core/glob.js';
import type { CommitFile } from '../source/index.js';
import { type BlobMemo, NO_BLOB_MEMO } from './blob-memo.js';

/** One input file as it enters an action key. */
export interface InputFile {
  readonly path: string;
  readonly digest: Digest;
  readonly executable: boolean;
}

/** Where a build's input files come from: the commit's git objects, or a directory (for --allow-dirty builds). */
export interface InputIndex {
  /** Every file of the project (relative POSIX paths), sorted. */
  paths(): Promise<readonly string[]>;
  /** The InputFile of each path (hashing what was not hashed before). */
  describe(paths: readonly string[]): Promise<InputFile[]>;
  /** The project's git submodules (relative paths): their files are in another repository, not in this commit. */
  readonly submodules: readonly string[];
  /** The paths described so far whose content is a Git LFS pointer: steps get the pointer text, not the file. */
  lfsPointers(): readonly string[];
}

/**
 * Refuses inputs of `step` that select a submodule or anything that may lie in one: Kiln builds one commit of one
 * repository, so a submodule's files would be missing from the step and from its cache key, without a word.
 */
export function refuseSubmoduleInputs(index: InputIndex, step: string, patterns: readonly string[]): void {
  for (const pattern of patterns) {
    const match = patternMatcher(pattern);
    const prefix = staticPrefix(pattern);
    const wild = /[*?]/.test(pattern);
    const reached = index.submodules.find((sub) => {
      if (prefix === sub || prefix.startsWith(`${sub}/`)) return true; // a path inside the submodule
      const below = prefix === '' || sub.startsWith(`${prefix}/`);
      return below && (match(sub) || wild); // the submodule itself, or a glob that may descend into it
    });
    if (reached === undefined) continue;
    throw new KilnError(
      'KILN_SOURCE_SUBMODULE',
      `step ${step}: input "${pattern}" reaches the git submodule ${reached}, whose files are not in this commit (they are in another repository), so the step would run without them and its cache key would not cover them`,
      {
        hint: `make the step's inputs leave ${reached} out (name the files or directories it reads), or vendor the submodule's files into this repository`,
      },
    );
  }
}

// The first line of every Git LFS pointer file (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md);
// pointers are under 1024 bytes.
const LFS_POINTER_START = Buffer.from('version https://git-lfs.github.com/spec/v1\n');
const LFS_POINTER_MAX = 1024;

/** True when `content` is a Git LFS pointer rather than the file it stands for. */
export function isLfsPointer(content: Buffer): boolean {
  return content.length < LFS_POINTER_MAX && content.subarray(0, LFS_POINTER_START.length).equals(LFS_POINTER_START);
}

/** Matches `patterns` against the index: the same result as expandInputs, from wherever the files live. */
export async function expandInputsFrom(index: InputIndex, patterns: readonly string[]): Promise<InputFile[]> {
  if (patterns.length === 0) return [];
  const all = await index.paths();
  const selected = new Set<string>();
  for (const pattern of patterns) {
    // Only the sorted range under the pattern's fixed directory can match: no scan of the whole tree per step.
    const match = patternMatcher(pattern);
    for (const path of underPrefix(all, staticPrefix(pattern))) if (match(path)) selected.add(path);
  }
  return index.describe([...selected].sort(byCodeUnit));
}

/** The paths of sorted `all` equal to `prefix` or below it (`prefix/…`); all of them for ''. */
function underPrefix(all: readonly string[], prefix: string): readonly string[] {
  if (prefix === '') return all;
  const out: string[] = [];
  const exact = lowerBound(all, prefix);
  if (all[exact] === prefix) out.push(prefix);
  const dir = `${prefix}/`;
  for (let i = lowerBound(all, dir); i < all.length && (all[i] as string).startsWith(dir); i++)
    out.push(all[i] as string);
  return out;
}

function lowerBound(all: readonly string[], key: string): number {
  let lo = 0;
  let hi = all.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((all[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * An index over the commit's files: listed once, each blob hashed at most once per build, nothing checked out.
 * With a `memo` (which must not reject), blobs hashed by an earlier build are not read again.
 */
export function commitInputIndex(
  files: readonly CommitFile[],
  read: (blobs: readonly string[], onBlob: (blob: string, content: Buffer) => void) => Promise<void>,
  memo?: Promise<BlobMemo>,
  submodules: readonly string[] = [],
): InputIndex {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const sorted = [...byPath.keys()].sort(byCodeUnit);
  const digests = new Map<string, Digest>();
  const key = (f: CommitFile) => `${f.kind}:${f.blob}`;
  // Pointer blobs are never memoised, so every build reads them again and sees what they are.
  const pointerBlobs = new Set<string>();
  const pointerPaths = new Set<string>();
  return {
    submodules,
    lfsPointers: () => [...pointerPaths].sort(byCodeUnit),
    paths: async () => sorted,
    async describe(paths) {
      const wanted = paths.map((p) => byPath.get(p)).filter((f): f is CommitFile => f !== undefined);
      const remembered = (await memo) ?? NO_BLOB_MEMO;
      // The same blob can be a file's content and a link's target: each kind gets its own digest.
      const kinds = new Map<string, Set<CommitFile['kind']>>();
      for (const f of wanted) {
        if (digests.has(key(f))) continue;
        const known = remembered.recall(f.kind, f.blob);
        if (known) digests.set(key(f), known);
        else kinds.set(f.blob, (kinds.get(f.blob) ?? new Set()).add(f.kind));
      }
      if (kinds.size > 0) {
        await read([...kinds.keys()], (blob, content) => {
          for (const kind of kinds.get(blob) ?? []) {
            const digest = sha256Digest(kind === 'symlink' ? `symlink:${content.toString('utf8')}` : content);
            digests.set(`${kind}:${blob}`, digest);
            if (kind === 'file' && isLfsPointer(content)) pointerBlobs.add(blob);
            else remembered.remember(kind, blob, digest, content.length);
          }
        });
        await remembered.save();
      }
      return wanted.map((f) => {
        const digest = digests.get(key(f));
        if (!digest) throw new Error(`no content was read for ${f.path} (blob ${f.blob})`); // a bug, not a user error
        if (f.kind === 'file' && pointerBlobs.has(f.blob)) pointerPaths.add(f.path);
        return { path: f.path, digest, executable: f.executable };
      });
    },
  };
}

/** An index over a directory on disk (the working-tree copy of a dirty build). */
export function directoryInputIndex(root: string, submodules: readonly string[] = []): InputIndex {
  let listing: Promise<string[]> | undefined;
  const pointerPaths = new Set<string>();
  const describeOne = async (path: string) => {
    const file = await describe(root, path);
    const full = join(root, path);
    const stat = await fsp.lstat(full);
    if (stat.isFile() && stat.size < LFS_POINTER_MAX && isLfsPointer(await fsp.readFile(full))) pointerPaths.add(path);
    return file;
  };
  return {
    submodules,
    lfsPointers: () => [...pointerPaths].sort(byCodeUnit),
    paths: () => {
      listing ??= (async () => {
        const out: string[] = [];
        for await (const path of walk(root, '')) out.push(path);
        return out.sort(byCodeUnit);
      })();
      return listing;
    },
    describe: (paths) => Promise.all(paths.map(describeOne)),
  };
}

/** Files under `root` matching any pattern (`**`, `*`, `?`, or a plain file or directory path), sorted, `.git` excluded. */
export async function expandInputs(root: string, patterns: readonly string[]): Promise<InputFile[]> {
  const matchers = patterns.map(patternMatcher);
  const found = new Map<string, InputFile>();
  for (const start of new Set(patterns.map(staticPrefix))) {
    for await (const path of walk(root, start)) {
      if (found.has(path) || !matchers.some((m) => m(path))) continue;
      found.set(path, await describe(root, path));
    }
  }
  return [...found.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** `./src/` → `src`; `.` and `./` (the whole project) → ''. */
function normalizePattern(pattern: string): string {
  const clean = pattern.replace(/^\.\//, '').replace(/\/+$/, '');
  return clean === '.' ? '' : clean;
}

/** True for a path (relative, POSIX) that `pattern` selects; a plain directory selects everything below it. */
export function patternMatcher(pattern: string): (path: string) => boolean {
  const clean = normalizePattern(pattern);
  if (clean === '') return () => true;
  if (!/[*?]/.test(clean)) return (path) => path === clean || path.startsWith(`${clean}/`);
  const re = globSource(clean);
  // `s`: a file name may hold a newline, and `.` must match it like any other character.
  const regex = new RegExp(`^${re}(?:/.*)?$`, 's');
  return (path) => regex.test(path);
}

/** The directory part of a pattern before its first wildcard: only that subtree needs walking. */
function staticPrefix(pattern: string): string {
  const clean = normalizePattern(pattern);
  const wild = clean.search(/[*?]/);
  const fixed = wild === -1 ? clean : clean.slice(0, wild);
  return wild === -1 ? fixed : fixed.slice(0, fixed.lastIndexOf('/') + 1).replace(/\/$/, '');
}

async function* walk(root: string, rel: string): AsyncGenerator<string> {
  const stat = await fsp.lstat(join(root, rel)).catch(() => undefined);
  if (!stat) return;
  if (!stat.isDirectory()) {
    yield rel;
    return;
  }
  const names = await fsp.readdir(join(root, rel));
  for (const name of names.sort()) {
    if (name === '.git' && rel === '') continue;
    yield* walk(root, rel ? `${rel}/${name}` : name);
  }
}

async function describe(root: string, path: string): Promise<InputFile> {
  const full = join(root, path);
  const stat = await fsp.lstat(full);
  if (stat.isSymbolicLink()) {
    return { path, digest: sha256Digest(`symlink:${await fsp.readlink(full)}`), executable: false };
  }
  return { path, digest: (await sha256File(full)).digest, executable: (stat.mode & 0o111) !== 0 };
}
