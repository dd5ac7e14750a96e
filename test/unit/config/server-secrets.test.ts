import { promises as fsp, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildsRef,
  parseServerConfig,
  projectForRepository,
  projectsForRepository,
  resolveSecret,
  type SecretRef,
} from '../../../src/config/index.js';
import { KilnError } from '../../../src/core/errors.js';
import { globMatches } from '../../../src/core/glob.js';
import { tempDir } from '../../helpers/tmp.js';

const readFile = (path: string) => fsp.readFile(path, 'utf8');
const ENV_REF: SecretRef = {
  kind: 'env',
  env: 'HOOK_SECRET',
  project: 'app',
  key: 'webhooks.github.secret',
  format: 'text',
};

async function failure(promise: Promise<unknown>): Promise<KilnError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KilnError);
  return err as KilnError;
}

/** Everything an error shows a person or a log: message, hint and details. */
const shown = (err: KilnError) => `${err.message}\n${err.hint}\n${JSON.stringify(err.details ?? {})}`;

describe('resolveSecret', () => {
  it('reads a secret from the environment it is given', async () => {
    expect(await resolveSecret(ENV_REF, { env: { HOOK_SECRET: 'abc' }, readFile })).toBe('abc');
  });

  it('reads a secret from a file, without its trailing newline', async () => {
    const file = join(tempDir(), 'secret');
    writeFileSync(file, 'from-a-file\n');
    const ref: SecretRef = { ...ENV_REF, kind: 'file', file };
    expect(await resolveSecret(ref, { env: {}, readFile })).toBe('from-a-file');
  });

  it('names the project, the key and the variable of a missing secret', async () => {
    const err = await failure(resolveSecret(ENV_REF, { env: { HOOK_SECRET: '' }, readFile }));
    expect(err.code).toBe('KILN_CONFIG_INVALID');
    expect(err.message).toBe(
      'project "app" webhooks.github.secret: environment variable HOOK_SECRET is not set or empty',
    );
    expect(err.hint).toContain('set HOOK_SECRET');
    const file = join(tempDir(), 'absent');
    const missing = await failure(resolveSecret({ ...ENV_REF, kind: 'file', file }, { env: {}, readFile }));
    expect(missing.message).toBe(`project "app" webhooks.github.secret: cannot read secret file ${file} (ENOENT)`);
  });

  it('checks a Standard Webhooks key and never shows the value it refuses', async () => {
    const ref: SecretRef = { ...ENV_REF, key: 'webhooks.standard.secret', format: 'whsec' };
    const good = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    expect(await resolveSecret(ref, { env: { HOOK_SECRET: good }, readFile })).toBe(good);
    for (const bad of [
      'not-a-whsec-value-TOPSECRET',
      'whsec_TOPSECRET!!',
      `whsec_${Buffer.from('TOPSECRET').toString('base64')}`,
    ]) {
      const err = await failure(resolveSecret(ref, { env: { HOOK_SECRET: bad }, readFile }));
      expect(err.message).toContain('environment variable HOOK_SECRET is not a Standard Webhooks key');
      expect(shown(err)).not.toContain(bad);
      expect(shown(err)).not.toContain('TOPSECRET');
      expect(shown(err)).not.toContain(Buffer.from('TOPSECRET').toString('base64'));
    }
    const file = join(tempDir(), 'whsec');
    writeFileSync(file, 'TOPSECRET-in-a-file\n');
    const err = await failure(resolveSecret({ ...ref, kind: 'file', file }, { env: {}, readFile }));
    expect(err.message).toContain(`file ${file} is not a Standard Webhooks key`);
    expect(shown(err)).not.toContain('TOPSECRET');
  });

  it('resolves the references of a loaded file, relative files beside it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'gitlab-token'), 'glpat-123\n');
    const text = `projects:
  - name: app
    repository: https://git.example.com/app
    webhooks:
      github: { secret: { env: GH } }
      gitlab: { token: { file: gitlab-token } }
`;
    const [app] = parseServerConfig(text, join(dir, 'kiln-server.yaml')).projects;
    const sources = { env: { GH: 'gh-secret' }, readFile };
    if (!app?.webhooks.github || !app.webhooks.gitlab) throw new Error('webhooks missing');
    expect(await resolveSecret(app.webhooks.github.secret, sources)).toBe('gh-secret');
    expect(await resolveSecret(app.webhooks.gitlab.token, sources)).toBe('glpat-123');
  });
});

describe('projectForRepository', () => {
  const config = parseServerConfig(
    `projects:
  - name: app
    repository: https://Git.Example.com:443/team/App.git
    branches: [main, release/*]
    tags: [v*]
  - name: web
    repository: https://git.example.com/team/App
    path: web
  - name: local
    repository: file:///srv/git/tools/
  - name: mirror
    repository: git://mirror.example.com/tools
`,
    '/srv/kiln-server.yaml',
  );

  it('finds a project whatever the spelling of its URL: trailing .git or /, host case, default port', () => {
    for (const url of [
      'https://git.example.com/team/App',
      'https://git.example.com/team/App.git',
      'https://git.example.com/team/App/',
      'https://GIT.example.com:443/team/App.git/',
    ]) {
      expect(projectForRepository(config, url)?.name, url).toBe('app');
    }
    expect(projectsForRepository(config, 'https://git.example.com/team/App.git').map((p) => p.name)).toEqual([
      'app',
      'web',
    ]);
    expect(projectForRepository(config, 'file:///srv/git/tools.git')?.name).toBe('local');
    expect(projectForRepository(config, 'git://Mirror.Example.com:9418/tools.git')?.name).toBe('mirror');
  });

  it('finds nothing for any other repository, scheme, path case or garbage', () => {
    for (const url of [
      'https://git.example.com/team/app',
      'https://git.example.com/team/App2',
      'http://git.example.com/team/App',
      'https://evil.example.com/team/App',
      'https://git.example.com:8443/team/App',
      'https://user:pw@git.example.com/team/App',
      'ssh://git.example.com/team/App',
      'file:///srv/git',
      'https://git.exa\nmple.com/team/App',
      'git://mirror.example.com:9419/tools',
      'not a url',
      '',
    ]) {
      expect(projectForRepository(config, url), url).toBeUndefined();
    }
  });

  it('matches branch and tag globs: * within a part, ** across parts', () => {
    expect(globMatches('release/*', 'release/1.2')).toBe(true);
    expect(globMatches('release/*', 'release/1/2')).toBe(false);
    expect(globMatches('feature/**', 'feature/a/b')).toBe(true);
    expect(globMatches('v*', 'v1.0.0')).toBe(true);
    expect(globMatches('v1.0', 'v1x0')).toBe(false);
    const app = config.projects[0];
    if (!app) throw new Error('no project');
    expect(buildsRef(app, 'refs/heads/main')).toBe(true);
    expect(buildsRef(app, 'refs/heads/feature/x')).toBe(false);
    expect(buildsRef(app, 'refs/tags/v2')).toBe(true);
    expect(buildsRef(app, 'refs/tags/main')).toBe(false);
  });
});
