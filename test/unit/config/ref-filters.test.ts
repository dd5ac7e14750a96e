// Branch and tag filters as globs: `*` stays within a path segment, `**` crosses them; a branch is matched only by
// branch globs and a tag only by tag globs; refs git would refuse are never admitted.
import { describe, expect, it } from 'vitest';
import { buildsRef } from '../../../src/config/index.js';
import { fullRef, isValidRef } from '../../../src/core/git-ref.js';
import { globMatches } from '../../../src/core/glob.js';

const FILTERS = { branches: ['main', 'release/*', 'team/**'], tags: ['v*'] };

describe('buildsRef: the branch and tag filters of a project', () => {
  it('admits a branch by a branch glob', () => {
    expect(buildsRef(FILTERS, 'refs/heads/main')).toBe(true);
    expect(buildsRef(FILTERS, 'refs/heads/release/2.x')).toBe(true);
    expect(buildsRef(FILTERS, 'refs/heads/team/a/b/c')).toBe(true);
  });

  it('does not let * cross a slash, nor match a longer or shorter name', () => {
    expect(buildsRef(FILTERS, 'refs/heads/release/2.x/hotfix')).toBe(false);
    expect(buildsRef(FILTERS, 'refs/heads/release')).toBe(false);
    expect(buildsRef(FILTERS, 'refs/heads/mainline')).toBe(false);
    expect(buildsRef(FILTERS, 'refs/heads/xmain')).toBe(false);
  });

  it('matches tags only by tag globs, and branches only by branch globs', () => {
    expect(buildsRef(FILTERS, 'refs/tags/v1.2.0')).toBe(true);
    expect(buildsRef(FILTERS, 'refs/tags/main')).toBe(false);
    expect(buildsRef(FILTERS, 'refs/heads/v1.2.0')).toBe(false);
    expect(buildsRef(FILTERS, 'refs/tags/v1/rc')).toBe(false);
  });

  it('admits nothing of a kind with no globs, and never another kind of ref or an invalid one', () => {
    expect(buildsRef({ branches: ['**'], tags: [] }, 'refs/tags/v1')).toBe(false);
    expect(buildsRef({ branches: [], tags: [] }, 'refs/heads/main')).toBe(false);
    expect(buildsRef({ branches: ['**'], tags: ['**'] }, 'refs/pull/12/head')).toBe(false);
    expect(buildsRef({ branches: ['**'], tags: [] }, 'refs/heads/a..b')).toBe(false);
  });
});

describe('globMatches', () => {
  it('treats regular-expression characters literally and ? as one character other than /', () => {
    expect(globMatches('v1.2.*', 'v1.2.3')).toBe(true);
    expect(globMatches('v1.2.*', 'v1x2.3')).toBe(false);
    expect(globMatches('feat+(x)', 'feat+(x)')).toBe(true);
    expect(globMatches('v?', 'v1')).toBe(true);
    expect(globMatches('a?b', 'a/b')).toBe(false);
    expect(globMatches('', '')).toBe(false);
  });

  it('lets **/ match no segment or many', () => {
    expect(globMatches('a/**/b', 'a/b')).toBe(true);
    expect(globMatches('a/**/b', 'a/x/y/b')).toBe(true);
    expect(globMatches('a/**/b', 'a/x/c')).toBe(false);
    expect(globMatches('**', 'any/thing')).toBe(true);
  });
});

describe('isValidRef and fullRef', () => {
  it('refuses what git check-ref-format refuses', () => {
    for (const ref of ['refs/heads/main', 'refs/tags/v1.2.0', 'refs/heads/release/2.x', 'refs/heads/ünï']) {
      expect(isValidRef(ref), ref).toBe(true);
    }
    for (const ref of [
      'main',
      'refs/heads/',
      'refs/heads//x',
      'refs/heads/a..b',
      'refs/heads/.hidden',
      'refs/heads/x.lock',
      'refs/heads/x.',
      'refs/heads/a b',
      'refs/heads/a~1',
      'refs/heads/a^',
      'refs/heads/a:b',
      'refs/heads/a*',
      'refs/heads/a[1]',
      'refs/heads/a\\b',
      'refs/heads/a@{1}',
      'refs/heads/a\u0007',
      `refs/heads/${'x'.repeat(1100)}`,
    ]) {
      expect(isValidRef(ref), ref).toBe(false);
    }
  });

  it('reads a bare name as a branch', () => {
    expect(fullRef('main')).toBe('refs/heads/main');
    expect(fullRef('refs/tags/v1')).toBe('refs/tags/v1');
  });
});
