// Branch and tag filters as globs: `*` stays within a path segment, `**` crosses them; a branch is matched only by
// branch globs and a tag only by tag globs; refs git would refuse are never admitted.
import { describe, expect, it } from 'vitest';
import { globMatches } from '../../../../src/core/glob.js';
import { fullRef, isValidRef, refMatches } from '../../../../src/server/webhooks/refs.js';

const FILTERS = { branches: ['main', 'release/*', 'team/**'], tags: ['v*'] };

describe('refMatches', () => {
  it('admits a branch by a branch glob and gives its short name and the glob', () => {
    expect(refMatches('refs/heads/main', FILTERS)).toEqual({
      admitted: true,
      kind: 'branch',
      name: 'main',
      glob: 'main',
    });
    expect(refMatches('refs/heads/release/2.x', FILTERS)).toEqual({
      admitted: true,
      kind: 'branch',
      name: 'release/2.x',
      glob: 'release/*',
    });
    expect(refMatches('refs/heads/team/a/b/c', FILTERS)).toMatchObject({ admitted: true, glob: 'team/**' });
  });

  it('does not let * cross a slash, nor match a longer or shorter name', () => {
    expect(refMatches('refs/heads/release/2.x/hotfix', FILTERS)).toMatchObject({ admitted: false, kind: 'branch' });
    expect(refMatches('refs/heads/release', FILTERS).admitted).toBe(false);
    expect(refMatches('refs/heads/mainline', FILTERS).admitted).toBe(false);
    expect(refMatches('refs/heads/xmain', FILTERS).admitted).toBe(false);
  });

  it('matches tags only by tag globs, and branches only by branch globs', () => {
    expect(refMatches('refs/tags/v1.2.0', FILTERS)).toEqual({
      admitted: true,
      kind: 'tag',
      name: 'v1.2.0',
      glob: 'v*',
    });
    expect(refMatches('refs/tags/main', FILTERS)).toMatchObject({ admitted: false, kind: 'tag' });
    expect(refMatches('refs/heads/v1.2.0', FILTERS)).toMatchObject({ admitted: false, kind: 'branch' });
    expect(refMatches('refs/tags/v1/rc', FILTERS).admitted).toBe(false);
  });

  it('admits nothing of a kind with no globs, and never another kind of ref or an invalid one', () => {
    expect(refMatches('refs/tags/v1', { branches: ['**'] }).admitted).toBe(false);
    expect(refMatches('refs/heads/main', {}).admitted).toBe(false);
    expect(refMatches('refs/pull/12/head', { branches: ['**'], tags: ['**'] })).toEqual({
      admitted: false,
      kind: 'other',
      name: 'refs/pull/12/head',
      glob: undefined,
    });
    expect(refMatches('refs/heads/a..b', { branches: ['**'] }).admitted).toBe(false);
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
