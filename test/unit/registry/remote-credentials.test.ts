// Where registry credentials come from (flags, env, docker config.json), and that secrets never reach a message.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultDockerConfigPath, resolveCredentials } from '../../../src/registry/remote/credentials.js';
import { thrown } from '../../helpers/errors.js';
import { tempDir } from '../../helpers/tmp.js';

const REGISTRY = '127.0.0.1:5000';
const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** A fake file system holding one docker config at /home/u/.docker/config.json. */
function withConfig(config: unknown): { env: Record<string, string>; readFile: (path: string) => string | undefined } {
  const text = typeof config === 'string' ? config : JSON.stringify(config);
  return { env: { HOME: '/home/u' }, readFile: (path) => (path === '/home/u/.docker/config.json' ? text : undefined) };
}

describe('resolveCredentials', () => {
  it('prefers flags, then env, then the docker config', () => {
    const files = withConfig({ auths: { [REGISTRY]: { auth: b64('cfg:cfgpw') } } });
    const env = { ...files.env, KILN_REGISTRY_USERNAME: 'envuser', KILN_REGISTRY_PASSWORD: 'envpw' };
    expect(
      resolveCredentials({ registry: REGISTRY, env, readFile: files.readFile, username: 'flag', password: 'flagpw' }),
    ).toEqual({
      kind: 'basic',
      username: 'flag',
      password: 'flagpw',
      source: 'the --username/--password flags',
    });
    expect(resolveCredentials({ registry: REGISTRY, env, readFile: files.readFile })).toEqual({
      kind: 'basic',
      username: 'envuser',
      password: 'envpw',
      source: 'the environment (KILN_REGISTRY_USERNAME/KILN_REGISTRY_PASSWORD)',
    });
    expect(resolveCredentials({ registry: REGISTRY, env: files.env, readFile: files.readFile })).toEqual({
      kind: 'basic',
      username: 'cfg',
      password: 'cfgpw',
      source: `/home/u/.docker/config.json auths["${REGISTRY}"].auth`,
    });
  });

  it('refuses half a pair from flags or env', () => {
    const flag = thrown(() => resolveCredentials({ registry: REGISTRY, env: {}, username: 'u' }));
    expect(flag.code).toBe('KILN_USAGE');
    expect(flag.message).toBe(
      'registry credentials from the --username/--password flags are incomplete: a username and a password are both needed',
    );
    const env = thrown(() =>
      resolveCredentials({ registry: REGISTRY, env: { KILN_REGISTRY_PASSWORD: 'secret-only' } }),
    );
    expect(env.hint).toBe(
      'set both KILN_REGISTRY_USERNAME/KILN_REGISTRY_PASSWORD, or neither (then ~/.docker/config.json is used)',
    );
    expect(`${env.message}${env.hint}`).not.toContain('secret-only');
  });

  it('reads every form docker login writes (docker/cli configfile: auth = base64 "user:password")', () => {
    const entry = (value: unknown) =>
      resolveCredentials({ registry: REGISTRY, ...withConfig({ auths: { [REGISTRY]: value } }) });
    // Only the first ":" separates: passwords may contain colons.
    expect(entry({ auth: b64('alice:pa:ss') })).toMatchObject({ kind: 'basic', username: 'alice', password: 'pa:ss' });
    expect(entry({ username: 'bob', password: 'pw' })).toMatchObject({
      kind: 'basic',
      username: 'bob',
      password: 'pw',
      source: `/home/u/.docker/config.json auths["${REGISTRY}"].username/password`,
    });
    expect(entry({ identitytoken: 'refresh-123', auth: b64('x:y') })).toEqual({
      kind: 'token',
      token: 'refresh-123',
      source: `/home/u/.docker/config.json auths["${REGISTRY}"].identitytoken`,
    });
  });

  it('matches auths keys written with a scheme or path, and Docker Hub by its legacy name', () => {
    const hub = withConfig({ auths: { 'https://index.docker.io/v1/': { auth: b64('hub:pw') } } });
    expect(resolveCredentials({ registry: 'docker.io', ...hub })).toMatchObject({ username: 'hub' });
    const local = withConfig({ auths: { 'http://127.0.0.1:5000/v2/': { auth: b64('l:pw') } } });
    expect(resolveCredentials({ registry: REGISTRY, ...local })).toMatchObject({ username: 'l' });
    expect(resolveCredentials({ registry: '127.0.0.1:5001', ...local })).toEqual({
      kind: 'anonymous',
      source: 'none found (checked flags, KILN_REGISTRY_USERNAME/KILN_REGISTRY_PASSWORD, /home/u/.docker/config.json)',
    });
  });

  it('reports a broken config without quoting any of it', () => {
    const broken = thrown(() =>
      resolveCredentials({ registry: REGISTRY, ...withConfig('{"auths": {"x": {"auth": "c2VjcmV0LXZhbHVl" ') }),
    );
    expect(broken.code).toBe('KILN_CONFIG_INVALID');
    expect(broken.message).toBe('/home/u/.docker/config.json is not valid JSON');
    expect(broken.cause).toBeUndefined();
    const bad = thrown(() =>
      resolveCredentials({
        registry: REGISTRY,
        ...withConfig({ auths: { [REGISTRY]: { auth: b64('no-colon-secret') } } }),
      }),
    );
    expect(bad.message).toBe(`/home/u/.docker/config.json auths["${REGISTRY}"].auth is not base64 of "user:password"`);
    expect(`${bad.message}${bad.hint}`).not.toContain('no-colon-secret');
  });

  it('says so when the credentials live in a credential helper', () => {
    const helper = withConfig({ auths: {}, credsStore: 'desktop' });
    expect(resolveCredentials({ registry: REGISTRY, ...helper })).toEqual({
      kind: 'anonymous',
      source: 'none usable: /home/u/.docker/config.json keeps them in a credential helper, which Kiln does not run',
    });
  });

  it('reads a real file from DOCKER_CONFIG before HOME, and is anonymous without either', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'cfg'));
    writeFileSync(join(dir, 'cfg', 'config.json'), JSON.stringify({ auths: { [REGISTRY]: { auth: b64('d:pw') } } }));
    expect(
      resolveCredentials({ registry: REGISTRY, env: { DOCKER_CONFIG: join(dir, 'cfg'), HOME: '/nonexistent' } }),
    ).toMatchObject({ username: 'd' });
    expect(defaultDockerConfigPath({ HOME: '/h' })).toBe('/h/.docker/config.json');
    expect(resolveCredentials({ registry: REGISTRY, env: {} })).toEqual({
      kind: 'anonymous',
      source: 'none found (checked flags, KILN_REGISTRY_USERNAME/KILN_REGISTRY_PASSWORD)',
    });
    expect(resolveCredentials({ registry: REGISTRY, env: { HOME: join(dir, 'missing') } }).kind).toBe('anonymous');
  });
});
