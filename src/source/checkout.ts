// Resolves what is being built (repo, exact commit, subdirectory) and lays a clean copy of it out of the user's tree.
import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { KilnError } from '../core/errors.js';
import { type GitEnv, git } from './git.js';

/** Where the project is and which commit is meant, before looking at the working tree. */
export interface ProjectCommit {
  readonly repoRoot: string;
  /** Path of the project inside the repository, '' or 'a/b' (POSIX separators). */
  readonly subdir: string;
  readonly commit: string;
  /** True when the commit is the one checked out (only then can uncommitted changes matter). */
  readonly isHead: boolean;
  /** Commit time in seconds: the SOURCE_DATE_EPOCH for everything built from it. */
  readonly sourceDateEpoch: number;
  /** The local branch built: HEAD's when building HEAD, or the one `--rev` names; null otherwise (retention groups by it). */
  readonly branch: string | null;
}

/** The exact source a build starts from. */
export interface SourceRef extends ProjectCommit {
  readonly repoUrl: string;
  /** True when the build uses uncommitted changes (only with --allow-dirty). */
  readonly dirty: boolean;
  readonly dirtyFiles: readonly string[];
}

/** Finds the repository holding `projectPath` and resolves `rev` (default HEAD) to a full commit SHA. */
export async function locateProject(projectPath: string, rev: string | undefined, env: GitEnv): Promise<ProjectCommit> {
  const abs = resolve(projectPath);
  await fsp.access(abs).catch((cause: unknown) => {
    throw new KilnError('KILN_NOT_FOUND', `project directory ${abs} does not exist`, {
      cause,
      hint: 'pass the directory that holds kiln.yaml',
    });
  });
  // Independent git processes at once; their failures are looked at in order, the clearest first.
  const [top, resolved, head, branch] = await Promise.all([
    settle(git(abs, ['rev-parse', '--show-toplevel'], env)),
    settle(commitAndTime(abs, rev ?? 'HEAD', env)),
    rev === undefined ? undefined : settle(commitAndTime(abs, 'HEAD', env)),
    branchNamed(abs, rev, env),
  ]);
  if (!top.ok) {
    throw new KilnError('KILN_SOURCE_GIT', `${abs} is not inside a git repository`, {
      cause: top.error,
      hint: 'Kiln builds commits: run `git init` and commit the project, or pass the path of a project inside a repository',
    });
  }
  if (!resolved.ok) {
    // Only an unknown revision is explained here; any other git failure is reported as it is.
    if (!/bad revision|unknown revision|ambiguous argument/.test(String(resolved.error))) throw resolved.error;
    throw new KilnError(
      'KILN_SOURCE_GIT',
      rev === undefined ? `the repository at ${abs} has no commits yet` : `--rev ${rev} is not a commit in ${abs}`,
      {
        cause: resolved.error,
        hint:
          rev === undefined
            ? 'commit the project first: Kiln builds commits'
            : 'pass a commit SHA, tag or branch that exists (see `git log --oneline --all`)',
      },
    );
  }
  const repoRoot = top.value.trim();
  const subdir = relative(await fsp.realpath(repoRoot), await fsp.realpath(abs))
    .split(sep)
    .join('/');
  const { commit, sourceDateEpoch } = resolved.value;
  const isHead = head === undefined || (head.ok && head.value.commit === commit);
  // A name that also names a tag resolves to the tag (git's order): the branch counts only if it is what was built.
  const onBranch = branch !== undefined && (branch.commit ?? commit) === commit ? branch.name : null;
  return Object.freeze({ repoRoot, subdir, commit, isHead, sourceDateEpoch, branch: onBranch });
}

// Rev syntax (`~ ^ : ? * [ \` and spaces) never appears in a branch name; other bad names simply do not exist.
const PLAIN_REF = /^[^\s~^:?*[\\]+$/;

/**
 * The local branch `rev` names (HEAD's branch when `rev` is absent or `HEAD`, then without a commit: it is HEAD's)
 * and its commit, from one git process; undefined for a detached HEAD, a tag, a SHA or anything not a local branch.
 */
async function branchNamed(
  cwd: string,
  rev: string | undefined,
  env: GitEnv,
): Promise<{ name: string; commit?: string } | undefined> {
  if (rev === undefined || rev === 'HEAD' || rev === '@') {
    // `symbolic-ref` exits 1 on a detached HEAD; then HEAD is the commit itself.
    const out = await git(cwd, ['symbolic-ref', '-q', 'HEAD'], env).catch(() => '');
    const ref = out.trim();
    return ref.startsWith('refs/heads/') ? { name: ref.slice('refs/heads/'.length) } : undefined;
  }
  // Only a plain name can be a branch: `main~1`, `main^{commit}` or `main@{1}` name a commit, not the branch.
  if (!PLAIN_REF.test(rev) || rev.includes('..') || rev.includes('@{')) return undefined;
  const ref = rev.startsWith('refs/heads/') ? rev : `refs/heads/${rev}`;
  const out = await git(cwd, ['rev-parse', '--verify', '-q', `${ref}^{commit}`], env).catch(() => '');
  return out.trim() ? { name: ref.slice('refs/heads/'.length), commit: out.trim() } : undefined;
}

/** The full SHA of `rev` and its commit time, from one `git rev-list --timestamp`. */
async function commitAndTime(cwd: string, rev: string, env: GitEnv) {
  const out = await git(cwd, ['rev-list', '-1', '--timestamp', '--end-of-options', `${rev}^{commit}`, '--'], env);
  const [time = '', commit = ''] = out.trim().split(' ');
  return { commit, sourceDateEpoch: Number(time) };
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

/** A file's text as committed, or undefined when the commit does not have it. */
export async function readAtCommit(at: ProjectCommit, path: string, env: GitEnv): Promise<string | undefined> {
  const full = [at.subdir, path].filter(Boolean).join('/');
  try {
    return await git(at.repoRoot, ['cat-file', 'blob', `${at.commit}:${full}`], env);
  } catch (err) {
    // Only now ask whether the file is there at all: missing is an answer, any other failure is not.
    const listed = await git(at.repoRoot, ['ls-tree', '--name-only', at.commit, '--', full], env);
    if (!listed.trim()) return undefined;
    throw err;
  }
}

/** Adds the working-tree state: refuses uncommitted changes unless allowed (they only matter when building HEAD). */
export async function checkWorkingTree(
  at: ProjectCommit,
  opts: { allowDirty: boolean; ignore: readonly string[]; env: GitEnv },
): Promise<SourceRef> {
  const ignored = opts.ignore.map((p) => [at.subdir, p].filter(Boolean).join('/').replace(/\/+$/, ''));
  const repoUrl = repositoryUrl(at.repoRoot, opts.env); // never fails; runs beside `git status`
  const dirtyFiles = at.isHead
    ? (await changedFiles(at.repoRoot, opts.env)).filter((f) => !ignored.some((i) => f === i || f.startsWith(`${i}/`)))
    : [];
  if (dirtyFiles.length > 0 && !opts.allowDirty) {
    const shown =
      dirtyFiles.slice(0, 10).join(', ') + (dirtyFiles.length > 10 ? `, … (${dirtyFiles.length} in all)` : '');
    throw new KilnError('KILN_SOURCE_DIRTY', `the working tree of ${at.repoRoot} has uncommitted changes: ${shown}`, {
      hint: 'commit or stash them (a build must come from one commit), or pass --allow-dirty to build them anyway (provenance will say the tree was dirty)',
    });
  }
  return Object.freeze({
    ...at,
    repoUrl: await repoUrl,
    dirty: dirtyFiles.length > 0,
    dirtyFiles: Object.freeze(dirtyFiles),
  });
}

/** Paths with uncommitted changes (tracked or untracked, not ignored), from `git status -z`. */
async function changedFiles(repoRoot: string, env: GitEnv): Promise<string[]> {
  const fields = (await git(repoRoot, ['status', '--porcelain=v1', '-z', '--untracked-files=all'], env)).split('\0');
  const files: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const entry = fields[i] ?? '';
    if (entry.length < 4) continue;
    files.push(entry.slice(3));
    if (entry[0] === 'R' || entry[0] === 'C') i++; // renames and copies carry the old path as the next field
  }
  return files;
}

/** Copies the tree at the commit (or, for a dirty build, the working tree's files) into `dest`, never touching the user's index. */
export async function materialize(source: SourceRef, dest: string, env: GitEnv): Promise<void> {
  await fsp.mkdir(dest, { recursive: true });
  if (!source.dirty) {
    const gitEnv = { ...env, GIT_INDEX_FILE: join(dest, '..', `.kiln-index-${randomUUID()}`) };
    try {
      await git(source.repoRoot, ['read-tree', source.commit], gitEnv);
      // The copy is the work tree git sees: a bare mirror has none, and the user's own never influences the copy.
      await git(
        source.repoRoot,
        [`--work-tree=${dest}`, 'checkout-index', '--all', `--prefix=${dest.replace(/\/?$/, '/')}`],
        gitEnv,
      );
    } finally {
      await fsp.rm(gitEnv.GIT_INDEX_FILE, { force: true });
    }
    return;
  }
  const files = (await git(source.repoRoot, ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], env))
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    const from = join(source.repoRoot, file);
    const stat = await fsp.lstat(from).catch(() => undefined);
    if (!stat) continue; // deleted in the working tree
    await fsp.mkdir(join(dest, file, '..'), { recursive: true });
    if (stat.isSymbolicLink()) await fsp.symlink(await fsp.readlink(from), join(dest, file));
    else if (stat.isFile()) await fsp.copyFile(from, join(dest, file));
  }
}

/** The repository as builds record it: origin's URL without credentials, else `file://<root>`; never rejects. */
export async function repositoryUrl(repoRoot: string, env: GitEnv): Promise<string> {
  const remote = await git(repoRoot, ['config', '--get', 'remote.origin.url'], env).catch(() => '');
  return remote.trim() ? redactUrl(remote.trim()) : `file://${repoRoot}`;
}

/** Drops credentials and query strings from a URL (`https://user:token@host/x?t=1` → `https://host/x`) for provenance. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1').replace(/[?#].*$/, '');
}
