// Resolves what is being built (repo, exact commit, subdirectory) and lays a clean copy of it out of the user's tree.
import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { KilnError } from '../core/errors.js';
import { type GitEnv, git } from './git.js';

/** The exact source a build starts from. */
export interface SourceRef {
  readonly repoRoot: string;
  readonly repoUrl: string;
  readonly commit: string;
  /** Path of the project inside the repository, '' or 'a/b' (POSIX separators). */
  readonly subdir: string;
  /** True when the build uses uncommitted changes (only with --allow-dirty). */
  readonly dirty: boolean;
  readonly dirtyFiles: readonly string[];
  /** Commit time in seconds: the SOURCE_DATE_EPOCH for everything built from it. */
  readonly sourceDateEpoch: number;
}

/** Resolves `rev` in the repository holding `projectPath`; refuses a dirty tree unless allowed. */
export async function resolveSource(opts: {
  projectPath: string;
  rev?: string;
  allowDirty: boolean;
  /** Paths (relative to the project) that Kiln itself writes, ignored by the dirty check. */
  ignore?: readonly string[];
  env: GitEnv;
}): Promise<SourceRef> {
  const projectPath = resolve(opts.projectPath);
  const repoRoot = (await git(projectPath, ['rev-parse', '--show-toplevel'], opts.env)).trim();
  const subdir = relative(await fsp.realpath(repoRoot), await fsp.realpath(projectPath))
    .split(sep)
    .join('/');
  const rev = opts.rev ?? 'HEAD';
  const commit = (await git(repoRoot, ['rev-parse', '--verify', `${rev}^{commit}`], opts.env)).trim();
  const epoch = Number((await git(repoRoot, ['show', '-s', '--format=%ct', commit], opts.env)).trim());
  const ignored = (opts.ignore ?? []).map((p) => (subdir ? `${subdir}/${p}` : p).replace(/\/+$/, ''));
  const status = await git(repoRoot, ['status', '--porcelain=v1', '-z', '--untracked-files=all'], opts.env);
  const dirtyFiles = status
    .split('\0')
    .filter((e) => e.length > 3)
    .map((e) => e.slice(3))
    .filter((f) => !ignored.some((i) => f === i || f.startsWith(`${i}/`)));
  if (dirtyFiles.length > 0 && !opts.allowDirty) {
    const shown =
      dirtyFiles.slice(0, 10).join(', ') + (dirtyFiles.length > 10 ? `, … (${dirtyFiles.length} in all)` : '');
    throw new KilnError('E_SOURCE_DIRTY', `the working tree of ${repoRoot} has uncommitted changes: ${shown}`, {
      hint: 'commit or stash them (a build must come from one commit), or pass --allow-dirty to build them anyway (provenance will say the tree was dirty)',
    });
  }
  return Object.freeze({
    repoRoot,
    repoUrl: await repoUrlOf(repoRoot, opts.env),
    commit,
    subdir,
    dirty: dirtyFiles.length > 0,
    dirtyFiles: Object.freeze(dirtyFiles),
    sourceDateEpoch: epoch,
  });
}

/** Copies the tree at the commit (or, for a dirty build, the working tree's files) into `dest`, never touching the user's index. */
export async function materialize(source: SourceRef, dest: string, env: GitEnv): Promise<void> {
  await fsp.mkdir(dest, { recursive: true });
  const prefix = dest.endsWith('/') ? dest : `${dest}/`;
  if (!source.dirty) {
    const gitEnv = { ...env, GIT_INDEX_FILE: join(dest, '..', `.kiln-index-${randomUUID()}`) };
    try {
      await git(source.repoRoot, ['read-tree', source.commit], gitEnv);
      await git(source.repoRoot, ['checkout-index', '--all', `--prefix=${prefix}`], gitEnv);
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

async function repoUrlOf(repoRoot: string, env: GitEnv): Promise<string> {
  const remote = await git(repoRoot, ['config', '--get', 'remote.origin.url'], env).catch(() => '');
  return remote.trim() ? redactUrl(remote.trim()) : `file://${repoRoot}`;
}

/** Drops credentials from a URL (`https://user:token@host/x` → `https://host/x`) so they never reach provenance. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}
