import { describe, expect, it } from 'vitest';
import { parseServerConfig } from '../../../src/config/index.js';
import type { KilnError } from '../../../src/core/errors.js';

const project = (repository: string, statuses: string) => `projects:
  - name: app
    repository: ${repository}
    statuses:
${statuses}`;

function problemsOf(text: string): { path: string; line: number; message: string }[] {
  try {
    parseServerConfig(text, '/srv/kiln/kiln-server.yaml');
  } catch (err) {
    expect((err as KilnError).code).toBe('KILN_CONFIG_INVALID');
    return (err as KilnError).details?.problems as never;
  }
  throw new Error('expected the config to be rejected');
}

describe('kiln-server.yaml statuses.github', () => {
  it('takes OWNER/REPO from an https repository URL and fills in the API root and context', () => {
    const config = parseServerConfig(
      project('https://github.com/acme/app.git', '      github: { token: { env: GITHUB_TOKEN } }\n'),
      '/srv/kiln/kiln-server.yaml',
    );
    expect(config.projects[0]?.statuses.github).toEqual({
      token: { kind: 'env', env: 'GITHUB_TOKEN', project: 'app', key: 'statuses.github.token', format: 'text' },
      api: 'https://api.github.com',
      owner: 'acme',
      repo: 'app',
      context: 'kiln',
      targetUrl: undefined,
    });
    const none = 'projects:\n  - { name: app, repository: https://github.com/acme/app }\n';
    expect(parseServerConfig(none, '/k.yaml').projects[0]?.statuses).toEqual({});
  });

  it('takes an explicit repository, a GitHub Enterprise API, a context and a link; a token file beside the config', () => {
    const config = parseServerConfig(
      project(
        'file:///srv/git/app',
        `      github:
        token: { file: secrets/gh }
        api: https://ghe.example.com/api/v3/
        repository: platform/app
        context: ci/kiln
        targetUrl: https://kiln.example.com/jobs/{job}
`,
      ),
      '/srv/kiln/kiln-server.yaml',
    );
    expect(config.projects[0]?.statuses.github).toMatchObject({
      token: { kind: 'file', file: '/srv/kiln/secrets/gh' },
      api: 'https://ghe.example.com/api/v3',
      owner: 'platform',
      repo: 'app',
      context: 'ci/kiln',
      targetUrl: 'https://kiln.example.com/jobs/{job}',
    });
  });

  it('refuses an inline token, a repository it cannot name, and a plain-http API off loopback', () => {
    const inline = problemsOf(project('https://github.com/acme/app', '      github: { token: ghp_secretvalue }\n'));
    expect(inline).toEqual([expect.objectContaining({ path: 'projects[0].statuses.github.token' })]);
    expect(JSON.stringify(inline)).not.toContain('ghp_secretvalue');

    const unnamed = problemsOf(project('file:///srv/git/app', '      github: { token: { env: T } }\n'));
    expect(unnamed).toEqual([expect.objectContaining({ path: 'projects[0].statuses.github' })]);
    expect(unnamed[0]?.message).toContain('statuses.github.repository: OWNER/REPO');

    const clear = problemsOf(
      project(
        'https://github.com/acme/app',
        '      github: { token: { env: T }, api: "http://ghe.example.com/api/v3" }\n',
      ),
    );
    expect(clear).toEqual([expect.objectContaining({ path: 'projects[0].statuses.github.api' })]);
    expect(clear[0]?.message).toContain('in clear');
    const loopback = project(
      'https://github.com/acme/app',
      '      github: { token: { env: T }, api: "http://127.0.0.1:9" }\n',
    );
    expect(parseServerConfig(loopback, '/k.yaml').projects[0]?.statuses.github?.api).toBe('http://127.0.0.1:9');

    const typo = problemsOf(project('https://github.com/acme/app', '      github: { token: { env: T }, contxt: x }\n'));
    expect(typo[0]?.message).toContain('context');
  });
});
