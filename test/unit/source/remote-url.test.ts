import { describe, expect, it } from 'vitest';
import { isKilnError } from '../../../src/core/errors.js';
import { remoteGitEnv, scrub } from '../../../src/source/mirror-git.js';
import { mirrorName, parseRemoteUrl } from '../../../src/source/remote-url.js';

describe('remote repository URLs', () => {
  it('takes userinfo out as credentials and normalizes the rest', () => {
    expect(parseRemoteUrl('HTTPS://bob:p%40ss@Git.Example.com:443/team/repo.git/')).toEqual({
      url: 'https://git.example.com/team/repo.git',
      credentials: { username: 'bob', password: 'p@ss' },
    });
    expect(parseRemoteUrl('git://127.0.0.1:9418/repo')).toEqual({
      url: 'git://127.0.0.1:9418/repo',
      credentials: undefined,
    });
    expect(parseRemoteUrl('file:///srv/git/repo')).toEqual({ url: 'file:///srv/git/repo', credentials: undefined });
    // The same repository with or without credentials has one mirror.
    expect(mirrorName(parseRemoteUrl('https://x:y@h/r').url)).toBe(mirrorName(parseRemoteUrl('https://h/r/').url));
    expect(mirrorName('https://h/r')).toMatch(/^[0-9a-f]{32}\.git$/);
  });

  it('refuses other schemes, queries and non-URLs without echoing a secret', () => {
    for (const bad of [
      'ssh://u:hunter2@h/r',
      'ext::sh -c x',
      'https://u:hunter2@h/r?token=1',
      'https://h',
      '/srv/repo',
    ]) {
      let caught: unknown;
      try {
        parseRemoteUrl(bad);
      } catch (err) {
        caught = err;
      }
      expect(isKilnError(caught, 'KILN_USAGE')).toBe(true);
      expect((caught as Error).message).not.toContain('hunter2');
    }
  });

  it('scrubs the password, the Basic token and their encodings from what git says', () => {
    const credentials = { username: 'bob', password: 'p@ss word' };
    const token = Buffer.from('bob:p@ss word').toString('base64');
    const said = `fatal: p@ss word ${token} p%40ss%20word ${Buffer.from('p@ss word').toString('base64')} bob`;
    expect(scrub(said, credentials)).toBe('fatal: *** *** *** *** bob');
  });

  it('hands credentials to git only through GIT_CONFIG_* variables, with prompts off', () => {
    const env = remoteGitEnv({ PATH: '/bin', HOME: '/home/me' }, { username: 'bob', password: 'pw' });
    expect(env.HOME).toBeUndefined();
    expect(env.GIT_TERMINAL_PROMPT).toBe('0');
    const pairs = Array.from({ length: Number(env.GIT_CONFIG_COUNT) }, (_, i) => [
      env[`GIT_CONFIG_KEY_${i}`],
      env[`GIT_CONFIG_VALUE_${i}`],
    ]);
    expect(pairs).toContainEqual([
      'http.extraHeader',
      `Authorization: Basic ${Buffer.from('bob:pw').toString('base64')}`,
    ]);
    expect(remoteGitEnv({ PATH: '/bin' }, undefined).GIT_CONFIG_COUNT).toBe(String(pairs.length - 1));
  });
});
