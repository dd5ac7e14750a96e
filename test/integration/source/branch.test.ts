import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { locateProject } from '../../../src/source/index.js';
import { git, makeRepo } from '../../helpers/repo.js';
import { tempDir } from '../../helpers/tmp.js';

const ENV = { PATH: process.env.PATH, HOME: process.env.HOME };

/** A repo with main (2 commits), feat/login off the first commit, a tag and a detached-HEAD-able history. */
function repoWithBranches(): { repo: string; first: string; second: string } {
  const repo = join(tempDir(), 'repo');
  const first = makeRepo(repo, { 'a.txt': 'one\n' });
  git(repo, ['branch', 'feat/login']);
  git(repo, ['tag', 'v1']);
  git(repo, ['commit', '-q', '--allow-empty', '-m', 'second'], '2024-05-02T12:00:00Z');
  const second = git(repo, ['rev-parse', 'HEAD']).trim();
  return { repo, first, second };
}

describe('the branch a build records', () => {
  it('is HEAD’s branch when HEAD is built, with or without --rev HEAD, and null on a detached HEAD', async () => {
    const { repo, first, second } = repoWithBranches();
    expect(await locateProject(repo, undefined, ENV)).toMatchObject({ commit: second, branch: 'main', isHead: true });
    expect((await locateProject(repo, 'HEAD', ENV)).branch).toBe('main');
    git(repo, ['checkout', '-q', 'feat/login']);
    expect(await locateProject(repo, undefined, ENV)).toMatchObject({ commit: first, branch: 'feat/login' });
    git(repo, ['checkout', '-q', '--detach', 'main']);
    expect(await locateProject(repo, undefined, ENV)).toMatchObject({ commit: second, branch: null, isHead: true });
  });

  it('is the branch --rev names (short or full ref), and null for a SHA, a tag, a remote branch or an expression', async () => {
    const { repo, first, second } = repoWithBranches();
    git(repo, ['update-ref', 'refs/remotes/origin/main', second]);
    const branchOf = async (rev: string) => (await locateProject(repo, rev, ENV)).branch;
    expect(await branchOf('feat/login')).toBe('feat/login');
    expect(await branchOf('refs/heads/feat/login')).toBe('feat/login');
    expect(await branchOf('main')).toBe('main');
    expect(await branchOf(first)).toBeNull();
    expect(await branchOf(second)).toBeNull(); // the commit main points at, but named by its SHA
    expect(await branchOf('v1')).toBeNull();
    expect(await branchOf('origin/main')).toBeNull();
    expect(await branchOf('main~1')).toBeNull();
    expect(await branchOf('main^{commit}')).toBeNull();
    expect(await branchOf('main@{0}')).toBeNull();
  });

  it('is null when the name is also a tag on another commit (git resolves the tag, so the tag was built)', async () => {
    const { repo, first, second } = repoWithBranches();
    git(repo, ['tag', 'release', first]);
    git(repo, ['branch', 'release', second]);
    const at = await locateProject(repo, 'release', ENV);
    expect(at.commit).toBe(first); // refs/tags/release comes before refs/heads/release (git-rev-parse(1) "SPECIFYING REVISIONS")
    expect(at.branch).toBeNull();
  });
});
