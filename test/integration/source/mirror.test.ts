import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isKilnError } from '../../../src/core/errors.js';
import { listCommitFiles, materialize, readAtCommit } from '../../../src/source/index.js';
import { fetchRemoteCommit, listRemoteRef } from '../../../src/source/mirror.js';
import { filesContaining, type GitServer, startGitDaemon, startGitHttp } from '../../helpers/git-serve.js';
import { git, makeRepo, writeFiles } from '../../helpers/repo.js';
import { tempDir } from '../../helpers/tmp.js';

const env = { PATH: process.env.PATH };
const servers: GitServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

function commitMore(dir: string, files: Record<string, string>): string {
  writeFiles(dir, files);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'more'], '2024-06-01T12:00:00Z');
  return git(dir, ['rev-parse', 'HEAD']).trim();
}

function mirrorDirs(mirrorsDir: string): string[] {
  return readdirSync(mirrorsDir).filter((n) => n.endsWith('.git'));
}

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe('repository mirrors', () => {
  it('clones once over git://, then fetches into the same mirror and resolves the new commit', async () => {
    const root = tempDir();
    const first = makeRepo(join(root, 'served', 'repo'), { 'app/kiln.yaml': 'name: one\n', README: 'x\n' });
    const daemon = await startGitDaemon(join(root, 'served'));
    servers.push(daemon);
    const mirrorsDir = join(root, 'home', 'mirrors');
    const fetched: string[] = [];
    const opts = { mirrorsDir, env, onFetch: (u: string) => fetched.push(u) };

    const a = await fetchRemoteCommit({ repository: `${daemon.url}/repo`, path: 'app' }, opts);
    expect(a).toMatchObject({
      commit: first,
      subdir: 'app',
      branch: 'main',
      dirty: false,
      repoUrl: `${daemon.url}/repo`,
    });
    expect(a.repoRoot.startsWith(mirrorsDir)).toBe(true);
    expect(git(a.repoRoot, ['rev-parse', '--is-bare-repository']).trim()).toBe('true');
    // The rest of a build reads the commit from the bare mirror: files, blobs and a clean copy.
    expect(await readAtCommit(a, 'kiln.yaml', env)).toBe('name: one\n');
    expect((await listCommitFiles(a.repoRoot, a.commit, a.subdir, env)).files.map((f) => f.path)).toEqual([
      'kiln.yaml',
    ]);
    await materialize(a, join(root, 'copy'), env);
    expect(readFileSync(join(root, 'copy', 'app', 'kiln.yaml'), 'utf8')).toBe('name: one\n');

    writeFileSync(join(a.repoRoot, 'kiln-test-marker'), 'mine');
    const inode = statSync(a.repoRoot).ino;
    const second = commitMore(join(root, 'served', 'repo'), { 'app/kiln.yaml': 'name: two\n' });
    const b = await fetchRemoteCommit({ repository: `${daemon.url}/repo`, ref: 'main', path: 'app' }, opts);
    expect(b.commit).toBe(second);
    expect(b.repoRoot).toBe(a.repoRoot);
    expect(statSync(b.repoRoot).ino).toBe(inode);
    expect(readFileSync(join(b.repoRoot, 'kiln-test-marker'), 'utf8')).toBe('mine'); // fetched, not cloned again
    expect(await readAtCommit(b, 'kiln.yaml', env)).toBe('name: two\n');
    expect(fetched).toEqual([`${daemon.url}/repo`, `${daemon.url}/repo`]);
    expect(mirrorDirs(mirrorsDir)).toHaveLength(1);

    // A tag and an abbreviated SHA resolve exactly; neither is a branch.
    git(join(root, 'served', 'repo'), ['tag', 'v1', first]);
    const tagged = await fetchRemoteCommit({ repository: `${daemon.url}/repo`, ref: 'v1' }, opts);
    expect(tagged).toMatchObject({ commit: first, branch: null });
    const short = await fetchRemoteCommit({ repository: `${daemon.url}/repo`, ref: second.slice(0, 10) }, opts);
    expect(short).toMatchObject({ commit: second, branch: null });
  });

  it('refuses a SHA that is not on the remote, and a ref that does not exist, naming the URL', async () => {
    const root = tempDir();
    makeRepo(join(root, 'served', 'repo'), { a: '1\n' });
    const elsewhere = makeRepo(join(root, 'other'), { b: '2\n' });
    const daemon = await startGitDaemon(join(root, 'served'));
    servers.push(daemon);
    const opts = { mirrorsDir: join(root, 'mirrors'), env };
    const repository = `${daemon.url}/repo`;

    const sha = await failure(fetchRemoteCommit({ repository, ref: elsewhere }, opts));
    expect(isKilnError(sha, 'KILN_SOURCE_GIT')).toBe(true);
    expect(sha.message).toContain(elsewhere);
    expect(sha.message).toContain(repository);

    const ref = await failure(fetchRemoteCommit({ repository, ref: 'no-such-branch' }, opts));
    expect(isKilnError(ref, 'KILN_SOURCE_GIT')).toBe(true);
    expect(ref.message).toBe(`ref no-such-branch is not a branch, tag or commit of ${repository}`);

    // A commit the mirror still holds from an earlier fetch, but no branch of the remote has any more.
    const served = join(root, 'served', 'repo');
    const gone = commitMore(served, { c: '3\n' });
    await fetchRemoteCommit({ repository }, opts);
    git(served, ['reset', '-q', '--hard', 'HEAD~1']);
    const forced = await failure(fetchRemoteCommit({ repository, ref: gone }, opts));
    expect(isKilnError(forced, 'KILN_SOURCE_GIT')).toBe(true);
    expect(forced.message).toContain(`is not on any branch or tag of ${repository}`);
  });

  it('replaces a garbage mirror directory with a fresh clone, with a warning', async () => {
    const root = tempDir();
    const commit = makeRepo(join(root, 'origin'), { a: '1\n' });
    const mirrorsDir = join(root, 'mirrors');
    const warnings: string[] = [];
    const opts = { mirrorsDir, env, onWarning: (m: string) => warnings.push(m) };
    const repository = `file://${join(root, 'origin')}`;
    const first = await fetchRemoteCommit({ repository }, opts);
    expect(warnings).toEqual([]);
    // Garbage where the mirror was: a directory that is not a repository (inside none either).
    execFileSync('rm', ['-rf', first.repoRoot]);
    writeFiles(first.repoRoot, { HEAD: 'garbage\n', 'objects/x': 'y' });
    const again = await fetchRemoteCommit({ repository }, opts);
    expect(again.commit).toBe(commit);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('is not a usable git mirror');
    expect(git(again.repoRoot, ['rev-parse', '--is-bare-repository']).trim()).toBe('true');
  });

  it('leaves no mirror behind a clone that failed, and cleans up a killed clone', async () => {
    const root = tempDir();
    const mirrorsDir = join(root, 'mirrors');
    const repository = `file://${join(root, 'missing')}`;
    const err = await failure(fetchRemoteCommit({ repository }, { mirrorsDir, env }));
    expect(isKilnError(err, 'KILN_SOURCE_GIT')).toBe(true);
    expect(readdirSync(mirrorsDir).filter((n) => !n.endsWith('.lock'))).toEqual([]);
    // What a clone killed with -9 leaves: a temp dir beside the mirror, never the mirror itself.
    makeRepo(join(root, 'missing'), { a: '1\n' });
    const ok = await fetchRemoteCommit({ repository }, { mirrorsDir, env });
    writeFiles(`${ok.repoRoot}.tmp-deadbeef`, { HEAD: 'half\n' });
    await fetchRemoteCommit({ repository }, { mirrorsDir, env });
    expect(readdirSync(mirrorsDir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('fetches over HTTP with credentials that appear in no file, URL, config or message', async () => {
    const root = tempDir();
    const commit = makeRepo(join(root, 'served', 'repo'), { a: '1\n' });
    const password = 's3cret-PASSWORD-xyz';
    const auth = { username: 'builder', password };
    const server = await startGitHttp(join(root, 'served'), auth);
    servers.push(server);
    const mirrorsDir = join(root, 'mirrors');
    const repository = `${server.url}/repo`;

    const withUserinfo = `http://builder:${password}@${server.url.slice('http://'.length)}/repo`;
    const got = await fetchRemoteCommit({ repository: withUserinfo }, { mirrorsDir, env });
    expect(got).toMatchObject({ commit, repoUrl: repository });
    const secrets = [password, Buffer.from(`builder:${password}`).toString('base64')];
    expect(filesContaining(mirrorsDir, secrets)).toEqual([]);
    const given = await fetchRemoteCommit({ repository, credentials: auth }, { mirrorsDir, env });
    expect(given.repoRoot).toBe(got.repoRoot); // one mirror per credential-free URL
    expect(server.requests.length).toBeGreaterThan(0);

    const wrong = await failure(
      fetchRemoteCommit(
        { repository, credentials: { username: 'builder', password: 'wrong-pass' } },
        { mirrorsDir, env },
      ),
    );
    expect(isKilnError(wrong, 'KILN_SOURCE_GIT')).toBe(true);
    expect(wrong.message).toContain(repository);
    expect((wrong as { hint?: string }).hint).toContain('credentials');
    expect(wrong.message).not.toContain('wrong-pass');

    expect(filesContaining(mirrorsDir, secrets)).toEqual([]);
    expect(readFileSync(join(got.repoRoot, 'config'), 'utf8')).toContain(`url = ${repository}\n`);

    // Asking the remote what a branch names (a submission) authenticates the same way, and says as little.
    expect(await listRemoteRef({ repository, ref: 'main', credentials: auth }, { mirrorsDir, env })).toEqual({
      commit,
      branch: 'main',
      repoUrl: repository,
    });
    expect(await listRemoteRef({ repository: withUserinfo }, { mirrorsDir, env })).toMatchObject({ commit });
    const refused = await failure(
      listRemoteRef(
        { repository, ref: 'main', credentials: { username: 'builder', password: 'wrong-pass' } },
        {
          mirrorsDir,
          env,
        },
      ),
    );
    expect(isKilnError(refused, 'KILN_SOURCE_GIT')).toBe(true);
    expect(refused.message).toContain(`listing ${repository} failed`);
    expect(refused.message).not.toContain('wrong-pass');
    expect(filesContaining(mirrorsDir, secrets)).toEqual([]);
  });

  it('builds a queued commit from a mirror that holds it without fetching, and fetches when it does not', async () => {
    const root = tempDir();
    const served = join(root, 'origin');
    const first = makeRepo(served, { a: '1\n' });
    git(served, ['branch', 'feature']);
    const fetched: string[] = [];
    const opts = { mirrorsDir: join(root, 'mirrors'), env, onFetch: (u: string) => fetched.push(u) };
    const repository = `file://${served}`;
    await fetchRemoteCommit({ repository }, opts);
    expect(fetched).toHaveLength(1);

    // Held on the branch it was pushed to: read as it is, with its time and branch.
    const held = await fetchRemoteCommit({ repository, ref: first, branch: 'main', fetch: 'if-missing' }, opts);
    expect(held).toMatchObject({ commit: first, branch: 'main', dirty: false });
    expect(held.sourceDateEpoch).toBe(Number(git(served, ['show', '-s', '--format=%ct', first]).trim()));
    expect(fetched).toHaveLength(1);
    // Not in the mirror yet: fetched, then resolved as always.
    const second = commitMore(served, { b: '2\n' });
    const fresh = await fetchRemoteCommit({ repository, ref: second, branch: 'main', fetch: 'if-missing' }, opts);
    expect(fresh).toMatchObject({ commit: second, branch: 'main' });
    expect(fetched).toHaveLength(2);
    // In the mirror, but not (yet, as the mirror knows it) on the branch named: fetched.
    git(served, ['push', '-q', '.', 'main:feature']);
    const moved = await fetchRemoteCommit({ repository, ref: second, branch: 'feature', fetch: 'if-missing' }, opts);
    expect(moved).toMatchObject({ commit: second, branch: 'feature' });
    expect(fetched).toHaveLength(3);
    // An abbreviated SHA is never taken from the mirror as it is; nor is anything without `if-missing`.
    await fetchRemoteCommit({ repository, ref: second.slice(0, 12), fetch: 'if-missing' }, opts);
    await fetchRemoteCommit({ repository, ref: second }, opts);
    expect(fetched).toHaveLength(5);
  });

  it('asks the remote what a branch or tag names without fetching, and leaves the rest to a fetch', async () => {
    const root = tempDir();
    const served = join(root, 'origin');
    const first = makeRepo(served, { a: '1\n' });
    const second = commitMore(served, { b: '2\n' });
    git(served, ['tag', '-a', 'v1', '-m', 'one', first]);
    git(served, ['tag', 'light', first]);
    git(served, ['tag', 'main-tag', second]);
    git(served, ['branch', 'both', first]);
    git(served, ['tag', '-a', 'both', '-m', 'same name', second]);
    const mirrorsDir = join(root, 'mirrors');
    const repository = `file://${served}`;
    const ask = (ref?: string) => listRemoteRef({ repository, ref }, { mirrorsDir, env });

    expect(await ask()).toEqual({ commit: second, branch: 'main', repoUrl: repository }); // the default branch
    expect(await ask('main')).toEqual({ commit: second, branch: 'main', repoUrl: repository });
    expect(await ask('v1')).toEqual({ commit: first, branch: null, repoUrl: repository }); // peeled to its commit
    expect(await ask('both')).toEqual({ commit: second, branch: null, repoUrl: repository }); // the tag, as git reads it
    for (const unresolved of ['light', second, second.slice(0, 10), 'refs/heads/main', 'main~1', 'no-such', '-x']) {
      expect(await ask(unresolved)).toBeUndefined();
    }
    expect(mirrorDirs(mirrorsDir)).toEqual([]); // nothing was fetched
    // And the same answer as resolving in a fetched mirror.
    for (const ref of ['main', 'v1', 'both']) {
      const fetched = await fetchRemoteCommit({ repository, ref }, { mirrorsDir, env });
      expect(await ask(ref)).toMatchObject({ commit: fetched.commit, branch: fetched.branch });
    }
  });
});
