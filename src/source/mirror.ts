// A bare mirror per remote repository under $KILN_HOME/mirrors: cloned once (into a temp dir, then renamed, so a
// killed clone never looks like a mirror), fetched before every build, one process at a time; then the ref is
// resolved to the exact commit, which the rest of the build reads like a local repository's.
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../core/errors.js';
import { type LockEnv, PROCESS_LOCK_ENV } from '../platform/processes.js';
import { withFileLock } from '../registry/layout/lock.js';
import type { SourceRef } from './checkout.js';
import { type GitEnv, git } from './git.js';
import { remoteGit } from './mirror-git.js';
import { type GitCredentials, mirrorName, parseRemoteUrl } from './remote-url.js';

/** A commit of a remote repository to build. */
export interface RemoteSource {
  /** file://, http://, https:// or git:// URL; userinfo in it counts as credentials and is never recorded. */
  readonly repository: string;
  /** Branch, tag, or full or abbreviated commit SHA; the remote's default branch when absent. */
  readonly ref?: string | undefined;
  /**
   * The branch the commit was pushed to, when `ref` is a commit: recorded as the build's branch if that branch of
   * the remote contains the commit (a queued build of `main` stays a build of `main` after newer pushes).
   */
  readonly branch?: string | undefined;
  /** The project's directory inside the repository ('' or 'a/b'). */
  readonly path?: string | undefined;
  readonly credentials?: GitCredentials | undefined;
  /**
   * `if-missing`: `ref` is an exact commit that was found on the remote when it was asked for (a queued job's), so a
   * mirror that already holds it (on `branch`, when given) is not fetched again. `always` (the default) fetches.
   */
  readonly fetch?: 'always' | 'if-missing' | undefined;
}

/** Where mirrors live and who hears about their upkeep. */
export interface MirrorOptions {
  readonly mirrorsDir: string;
  readonly env: GitEnv;
  /** Told before the network is used, with the credential-free URL. */
  readonly onFetch?: ((url: string) => void) | undefined;
  readonly onWarning?: ((message: string) => void) | undefined;
  readonly lockEnv?: LockEnv | undefined;
}

// A clone or fetch of a large repository takes long: only a dead holder (or one hung for hours) is stale.
const LOCK = { staleMs: 3 * 60 * 60_000, timeoutMs: 60 * 60_000 };

/** Brings the mirror of `remote` up to date and resolves its ref: the exact commit, read from the mirror. */
export async function fetchRemoteCommit(remote: RemoteSource, opts: MirrorOptions): Promise<SourceRef> {
  const parsed = parseRemoteUrl(remote.repository);
  const { url } = parsed;
  const credentials = remote.credentials ?? parsed.credentials;
  const subdir = projectSubdir(remote.path);
  const dir = join(opts.mirrorsDir, mirrorName(url));
  await fsp.mkdir(opts.mirrorsDir, { recursive: true });
  const net = { url, env: opts.env, credentials };
  const lockPath = join(opts.mirrorsDir, `${mirrorName(url)}.lock`);
  const resolved = await locked(lockPath, opts.lockEnv ?? PROCESS_LOCK_ENV, async () => {
    const held = remote.fetch === 'if-missing' ? await heldCommit(dir, remote, net) : undefined;
    if (held) return held;
    opts.onFetch?.(url);
    await syncMirror(dir, net, opts);
    return resolveRef(dir, url, remote.ref, net, remote.branch);
  });
  return Object.freeze({
    repoRoot: dir,
    subdir,
    ...resolved,
    isHead: false,
    repoUrl: url,
    dirty: false,
    dirtyFiles: Object.freeze([]),
  });
}

type Net = { url: string; env: GitEnv; credentials: GitCredentials | undefined };

/**
 * The commit a branch or tag name (or, with no ref, the default branch) names on the remote now, and the branch when it
 * names one, asked with `git ls-remote` (no fetch, no mirror). Undefined for what only a fetch resolves: a SHA, an
 * expression, a full `refs/` name, or no such branch or tag. A name that is both a tag and a branch is the tag, as
 * git reads it.
 */
export async function listRemoteRef(
  remote: Pick<RemoteSource, 'repository' | 'ref' | 'credentials'>,
  opts: Pick<MirrorOptions, 'mirrorsDir' | 'env'>,
): Promise<{ readonly commit: string; readonly branch: string | null; readonly repoUrl: string } | undefined> {
  const parsed = parseRemoteUrl(remote.repository);
  const net = { url: parsed.url, env: opts.env, credentials: remote.credentials ?? parsed.credentials };
  const name = remote.ref;
  const plain =
    name !== undefined &&
    /^[A-Za-z0-9._/-]+$/.test(name) &&
    !/^[0-9a-f]{4,64}$/.test(name) &&
    !/^(-|refs\/|HEAD$)|\.\.|\/\/|\.lock$|\/$/.test(name);
  if (name !== undefined && !plain) return undefined;
  const patterns = name === undefined ? ['HEAD'] : [`refs/heads/${name}`, `refs/tags/${name}`, `refs/tags/${name}^{}`];
  await fsp.mkdir(opts.mirrorsDir, { recursive: true });
  const symref = name === undefined ? ['--symref'] : [];
  const out = await remoteGit(opts.mirrorsDir, ['ls-remote', ...symref, '--', net.url, ...patterns], {
    ...net,
    what: 'listing',
  });
  const refs = new Map<string, string>();
  let defaultBranch: string | undefined;
  for (const line of out.split('\n')) {
    const [left = '', right = ''] = line.split('\t');
    if (left.startsWith('ref: refs/heads/') && right === 'HEAD') defaultBranch = left.slice('ref: refs/heads/'.length);
    else if (/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(left)) refs.set(right, left);
  }
  if (name === undefined) {
    const commit = refs.get('HEAD');
    return defaultBranch && commit ? { commit, branch: defaultBranch, repoUrl: net.url } : undefined;
  }
  // Only an annotated tag's peeled line names its commit; a lightweight tag (no such line) is left to a fetch.
  const tagged = refs.has(`refs/tags/${name}`);
  const peeled = refs.get(`refs/tags/${name}^{}`);
  if (tagged && peeled === undefined) return undefined;
  const head = refs.get(`refs/heads/${name}`);
  const commit = peeled ?? head;
  if (commit === undefined) return undefined;
  return { commit, branch: head === commit ? name : null, repoUrl: net.url };
}

/**
 * The exact commit `remote.ref` names, read from the mirror as it is, when the mirror holds it on a ref (and on
 * `remote.branch`, when given); undefined in every other case (no mirror, an abbreviated SHA, a stale branch), so the
 * caller fetches.
 */
async function heldCommit(dir: string, remote: RemoteSource, net: Net) {
  const commit = remote.ref ?? '';
  if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(commit)) return undefined;
  try {
    // --git-dir: a missing or broken mirror fails here rather than being taken for an enclosing repository.
    const refs = (await git(dir, ['--git-dir=.', 'for-each-ref', '--format=%(refname)', '--contains', commit], net.env))
      .split('\n')
      .filter(Boolean);
    const branch = remote.branch ?? null;
    if (refs.length === 0 || (branch !== null && !refs.includes(`refs/heads/${branch}`))) return undefined;
    const time = await git(dir, ['--git-dir=.', 'show', '-s', '--format=%ct', commit], net.env);
    return { commit, sourceDateEpoch: Number(time.trim()), branch };
  } catch {
    return undefined;
  }
}

/** `git fetch --prune` into the mirror, or a first `git clone --mirror` (also in place of a broken mirror). */
async function syncMirror(dir: string, net: Net, opts: MirrorOptions): Promise<void> {
  await removeLeftovers(dir);
  const state = await mirrorState(dir, net);
  if (state === 'ok') {
    await remoteGit(dir, ['fetch', '--quiet', '--prune', 'origin'], { ...net, what: 'fetching' });
    return;
  }
  if (state === 'broken') {
    opts.onWarning?.(`the mirror ${dir} of ${net.url} is not a usable git mirror: it is removed and cloned again`);
    await fsp.rm(dir, { recursive: true, force: true });
  }
  const tmp = `${dir}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await remoteGit(opts.mirrorsDir, ['clone', '--quiet', '--mirror', '--', net.url, tmp], { ...net, what: 'cloning' });
    await fsp.rename(tmp, dir);
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

/** Whether `dir` is missing, a bare repository mirroring `url`, or anything else. */
async function mirrorState(dir: string, net: Net): Promise<'missing' | 'ok' | 'broken'> {
  const stat = await fsp.lstat(dir).catch(() => undefined);
  if (!stat) return 'missing';
  if (!stat.isDirectory()) return 'broken';
  // --git-dir: a directory that is not a repository must not be taken for an enclosing one.
  const asked = await git(
    dir,
    ['--git-dir=.', 'config', '--get-regexp', '^(core\\.bare|remote\\.origin\\.url|remote\\.origin\\.mirror)$'],
    net.env,
  ).catch(() => '');
  const config = new Map(asked.split('\n').map((line) => [line.split(' ')[0], line.slice(line.indexOf(' ') + 1)]));
  const valid =
    config.get('core.bare') === 'true' &&
    config.get('remote.origin.url') === net.url &&
    config.get('remote.origin.mirror') === 'true';
  if (!valid) return 'broken';
  return (await git(dir, ['--git-dir=.', 'rev-parse', '--git-dir'], net.env).then(
    () => true,
    () => false,
  ))
    ? 'ok'
    : 'broken';
}

/** Temp clones a killed process left beside the mirror (only ever touched under the mirror's lock). */
async function removeLeftovers(dir: string): Promise<void> {
  const parent = join(dir, '..');
  const prefix = `${dir.slice(parent.length + 1)}.tmp-`;
  for (const name of await fsp.readdir(parent)) {
    if (name.startsWith(prefix)) await fsp.rm(join(parent, name), { recursive: true, force: true });
  }
}

/** The commit `ref` names on the remote (as just fetched), its time, and the branch when `ref` is one. */
async function resolveRef(dir: string, url: string, ref: string | undefined, net: Net, pushedTo?: string) {
  const wanted = ref ?? (await defaultBranch(dir, net));
  const notFound = (cause?: unknown) =>
    new KilnError('KILN_SOURCE_GIT', `ref ${wanted} is not a branch, tag or commit of ${url}`, {
      cause,
      hint: `pass a branch, tag or commit SHA that exists on ${url} (see git ls-remote ${url})`,
    });
  if (wanted.startsWith('-') || /\s/.test(wanted)) throw notFound();
  const out = await git(dir, ['rev-list', '-1', '--timestamp', '--end-of-options', `${wanted}^{commit}`, '--'], net.env)
    .then((o) => o.trim())
    .catch((err: unknown) => {
      throw notFound(err);
    });
  const [time = '', commit = ''] = out.split(' ');
  // A commit left in the mirror by an earlier fetch but no longer on any ref of the remote is not on the remote.
  const onRef = await git(dir, ['for-each-ref', '--count=1', '--format=%(refname)', '--contains', commit], net.env);
  if (!onRef.trim()) {
    throw new KilnError('KILN_SOURCE_GIT', `commit ${commit} (from ${wanted}) is not on any branch or tag of ${url}`, {
      hint: `pass a commit that a branch or tag of ${url} contains (it may have been force-pushed away)`,
    });
  }
  const hex = /^[0-9a-f]{4,64}$/.test(wanted); // a SHA (even if a branch had that name: the SHA is what was meant)
  const branchOut = hex
    ? ''
    : await git(dir, ['rev-parse', '--verify', '-q', `refs/heads/${wanted}^{commit}`], net.env).catch(() => '');
  const branch = branchOut.trim() === commit && !hex ? wanted : null;
  if (branch === null && pushedTo !== undefined && (await onBranch(dir, commit, pushedTo, net))) {
    return { commit, sourceDateEpoch: Number(time), branch: pushedTo };
  }
  return { commit, sourceDateEpoch: Number(time), branch };
}

/** Whether branch `name` of the mirror contains `commit`. */
async function onBranch(dir: string, commit: string, name: string, net: Net): Promise<boolean> {
  if (name.startsWith('-') || /\s/.test(name)) return false;
  return git(dir, ['merge-base', '--is-ancestor', commit, `refs/heads/${name}`], net.env).then(
    () => true,
    () => false,
  );
}

/** The remote's default branch, asked of the remote (a mirror's HEAD is only set when it is cloned). */
async function defaultBranch(dir: string, net: Net): Promise<string> {
  const out = await remoteGit(dir, ['ls-remote', '--symref', 'origin', 'HEAD'], { ...net, what: 'listing' });
  const m = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(out);
  if (!m?.[1]) {
    throw new KilnError('KILN_SOURCE_GIT', `${net.url} has no default branch`, {
      hint: 'pass the branch, tag or commit to build',
    });
  }
  return m[1];
}

/** The project directory inside the repository, as '' or 'a/b'; `..` and absolute paths are refused. */
function projectSubdir(path: string | undefined): string {
  const parts = (path ?? '').split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..') || (path ?? '').startsWith('/')) {
    throw new KilnError('KILN_USAGE', `project path ${path} is not a relative path inside the repository`, {
      hint: 'pass the directory that holds kiln.yaml, relative to the repository root, e.g. services/api',
    });
  }
  return parts.join('/');
}

/** Runs `fn` under the mirror's lock; a timeout waiting for it says which mirror and why. */
async function locked<T>(lockPath: string, env: LockEnv, fn: () => Promise<T>): Promise<T> {
  let started = false;
  try {
    return await withFileLock(
      lockPath,
      () => {
        started = true;
        return fn();
      },
      { ...LOCK, env },
    );
  } catch (err) {
    if (started || !(err instanceof KilnError)) throw err;
    throw new KilnError('KILN_SOURCE_GIT', `timed out waiting for the lock ${lockPath} of a repository mirror`, {
      cause: err,
      hint: `another Kiln process is fetching the same repository; if none is running, delete ${lockPath}`,
    });
  }
}
