import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadServerConfigFile,
  parseServerConfig,
  priorityClassOf,
  serverJsonSchema,
  supersedes,
} from '../../../src/config/index.js';
import { KilnError } from '../../../src/core/errors.js';
import { tempDir } from '../../helpers/tmp.js';

function problemsOf(text: string): { path: string; line: number; column: number; message: string }[] {
  try {
    parseServerConfig(text, '/srv/kiln/kiln-server.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).code).toBe('KILN_CONFIG_INVALID');
    return (err as KilnError).details?.problems as never;
  }
  throw new Error('expected the config to be rejected');
}

const MINIMAL = `projects:
  - name: app
    repository: https://git.example.com/team/app.git
    webhooks:
      github:
        secret: { env: GITHUB_WEBHOOK_SECRET }
`;

const FULL = `listen: 0.0.0.0:9090
database: postgres://kiln@db.internal:5432/kiln
concurrency: 4
classes: [critical, high, normal, low]
limits:
  webhookBodyBytes: 2097152
projects:
  - name: app
    repository: https://git.example.com/team/app.git
    path: services/app/
    branches: [main, release/*, feature/**]
    tags: [v*]
    priority:
      - { branches: [main], class: critical }
      - { branches: [release/*], class: high }
    team: payments
    concurrency: 2
    supersede: false
    labels: { arch: amd64 }
    webhooks:
      github: { secret: { env: GITHUB_WEBHOOK_SECRET } }
      gitlab: { token: { file: secrets/gitlab-token } }
      standard: { secret: { file: /run/secrets/whsec } }
    credentials:
      username: kiln-bot
      password: { env: GIT_TOKEN }
    schedules:
      - { cron: "0 3 * * *", timezone: Europe/Paris, ref: main }
    notify:
      - url: https://deploy.example.com/hooks/kiln
        secret: { env: NOTIFY_SECRET }
        events: [published, failed, published]
  - name: tools
    repository: file:///srv/git/tools
`;

describe('kiln-server.yaml loading', () => {
  it('fills in the SLO targets and alerting defaults, and takes partial overrides', () => {
    const config = parseServerConfig(MINIMAL, '/srv/kiln/kiln-server.yaml');
    expect(config.slo.objectives.buildSuccess).toEqual({ main: 0.98, release: 0.98, other: 0.9 });
    expect(config.slo.objectives.buildLatency).toEqual({ seconds: 600, main: 0.95, release: 0.95, other: 0.9 });
    expect(config.slo.objectives.queueWait.seconds).toBe(120);
    expect(config.slo.mainBranches).toEqual(['main', 'master']);
    expect(config.slo.runbookUrl).toBeUndefined();
    expect(config.alerting).toMatchObject({ kilnUrl: undefined, teams: {}, groupWait: '30s', repeatInterval: '4h' });
    const tuned = parseServerConfig(
      `${MINIMAL}slo:\n  runbookUrl: https://x.example.com/rb/\n  objectives:\n    buildLatency: { seconds: 300, main: 0.9 }\n`,
      '/srv/kiln/kiln-server.yaml',
    );
    expect(tuned.slo.objectives.buildLatency).toEqual({ seconds: 300, main: 0.9, release: 0.95, other: 0.9 });
    expect(tuned.slo.objectives.buildSuccess.main).toBe(0.98);
    expect(tuned.slo.runbookUrl).toBe('https://x.example.com/rb');
  });

  it('refuses a latency threshold that is not a histogram bound, an objective of 1, and a bad duration', () => {
    const problems = problemsOf(
      `${MINIMAL}slo:\n  objectives:\n    buildLatency: { seconds: 500 }\n    buildSuccess: { main: 1 }\nalerting:\n  groupWait: soon\n`,
    );
    expect(problems.map((p) => [p.path, p.line, p.message])).toEqual([
      ['slo.objectives.buildSuccess.main', 10, 'Too big: expected number to be <1'],
      ['slo.objectives.buildLatency.seconds', 9, expect.stringContaining('one of the histogram bounds: 1, 2, 5')],
      ['alerting.groupWait', 12, 'expected a duration such as 30s, 5m or 4h'],
    ]);
  });

  it('fills in every default of a minimal file and freezes the result', () => {
    const config = parseServerConfig(MINIMAL, '/srv/kiln/kiln-server.yaml');
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(config.database).toEqual({ kind: 'sqlite' });
    expect(config.concurrency).toBe(2);
    expect(config.classes).toEqual(['critical', 'high', 'normal', 'low']);
    expect(config.limits.webhookBodyBytes).toBe(1024 * 1024);
    expect(config.historyMs).toBe(90 * 86_400_000);
    expect(parseServerConfig(`${MINIMAL}historyDays: 7\n`, '/srv/kiln/kiln-server.yaml').historyMs).toBe(
      7 * 86_400_000,
    );
    const [app] = config.projects;
    expect(app).toMatchObject({
      name: 'app',
      repositoryKey: 'https://git.example.com/team/app',
      path: '.',
      branches: ['main'],
      tags: [],
      concurrency: 1,
      supersede: true,
      labels: {},
      schedules: [],
      notify: [],
      team: undefined,
      credentials: undefined,
    });
    expect(app?.priority).toEqual([
      { branches: ['main', 'release/*'], class: 'high' },
      { branches: ['**'], class: 'normal' },
    ]);
    expect(app?.webhooks.github?.secret).toEqual({
      kind: 'env',
      env: 'GITHUB_WEBHOOK_SECRET',
      project: 'app',
      key: 'webhooks.github.secret',
      format: 'text',
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(app?.priority)).toBe(true);
    if (!app) throw new Error('no project');
    expect(priorityClassOf(app, 'main')).toBe('high');
    expect(priorityClassOf(app, 'release/2.0')).toBe('high');
    expect(priorityClassOf(app, 'feature/x')).toBe('normal');
    expect(supersedes(config, app, 'main')).toBe(false);
    expect(supersedes(config, app, 'feature/x')).toBe(true);
  });

  it('normalizes a full file: secrets located, relative files resolved beside it, events deduplicated', () => {
    const config = parseServerConfig(FULL, '/srv/kiln/kiln-server.yaml');
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 9090 });
    expect(config.database).toEqual({ kind: 'postgres', url: 'postgres://kiln@db.internal:5432/kiln' });
    const [app, tools] = config.projects;
    expect(app?.path).toBe('services/app');
    expect(app?.webhooks.gitlab?.token).toMatchObject({ kind: 'file', file: '/srv/kiln/secrets/gitlab-token' });
    expect(app?.webhooks.standard?.secret).toMatchObject({ kind: 'file', file: '/run/secrets/whsec', format: 'whsec' });
    expect(app?.credentials?.password).toMatchObject({ kind: 'env', env: 'GIT_TOKEN', key: 'credentials.password' });
    expect(app?.notify[0]).toMatchObject({ events: ['published', 'failed'], secret: { key: 'notify[0].secret' } });
    expect(app?.schedules).toEqual([{ cron: '0 3 * * *', timezone: 'Europe/Paris', ref: 'main' }]);
    expect(app?.priority.at(-1)).toEqual({ branches: ['**'], class: 'normal' });
    expect(tools?.repositoryKey).toBe('file:///srv/git/tools');
    expect(tools?.notify).toEqual([]);
    if (!app) throw new Error('no project');
    expect(priorityClassOf(app, 'main')).toBe('critical');
    expect(priorityClassOf(app, 'feature/a/b')).toBe('normal');
    expect(supersedes(config, app, 'feature/a')).toBe(false); // supersede: false
  });

  it('refuses an inline secret, and says how to reference it without quoting it', () => {
    const problems = problemsOf(MINIMAL.replace('{ env: GITHUB_WEBHOOK_SECRET }', 's3cr3t-value'));
    expect(problems).toEqual([
      expect.objectContaining({ path: 'projects[0].webhooks.github.secret', line: 6, column: 17 }),
    ]);
    expect(problems[0]?.message).toContain('never written inline');
    expect(problems[0]?.message).toContain('{ env: GITHUB_WEBHOOK_SECRET }');
    expect(JSON.stringify(problems)).not.toContain('s3cr3t');
    const both = problemsOf(MINIMAL.replace('{ env: GITHUB_WEBHOOK_SECRET }', '{ env: A, file: b }'));
    expect(both[0]).toMatchObject({ path: 'projects[0].webhooks.github.secret', line: 6 });
    expect(both[0]?.message).toContain('exactly one of "env" or "file"');
  });

  it('refuses credentials inside a repository URL without repeating them, pointing at "credentials"', () => {
    const problems = problemsOf(MINIMAL.replace('https://git.example.com', 'https://bot:hunter2@git.example.com'));
    expect(problems).toEqual([expect.objectContaining({ path: 'projects[0].repository', line: 3, column: 17 })]);
    expect(problems[0]?.message).toContain('credentials: { username: NAME, password: { env: VAR } }');
    expect(JSON.stringify(problems)).not.toContain('hunter2');
  });

  it('accepts file, http, https and git repositories and refuses other schemes', () => {
    for (const url of ['file:///srv/git/app', 'http://127.0.0.1:8080/app.git', 'git://git.example.com/app.git']) {
      expect(() => parseServerConfig(MINIMAL.replace(/https:\/\/git\S+/, url), 'k.yaml')).not.toThrow();
    }
    for (const url of [
      'ssh://git@git.example.com/app.git',
      'ftp://example.com/app',
      'git@github.com:o/r.git',
      'https://git.example.com/app?ref=x',
      'https://git.example.com/',
      '"https://git.exa\\tmple.com/app"',
    ]) {
      const problems = problemsOf(MINIMAL.replace(/https:\/\/git\S+/, url));
      expect(problems, url).toEqual([expect.objectContaining({ path: 'projects[0].repository', line: 3 })]);
    }
    expect(problemsOf(MINIMAL.replace(/https:\/\/git\S+/, 'ssh://h/a'))[0]?.message).toMatch(
      /scheme "ssh" is not accepted .*use file:\/\/, http:\/\/, https:\/\/ or git:\/\//,
    );
    expect(problemsOf(MINIMAL.replace(/https:\/\/git\S+/, 'file://host/srv/a'))[0]?.message).toContain('three slashes');
  });

  it('refuses unknown keys at every level with a did-you-mean', () => {
    const text = MINIMAL.replace('projects:', 'listn: 127.0.0.1:1\nprojects:')
      .replace('    webhooks:', '    branch: [main]\n    webhooks:')
      .replace('      github:', '      githb:')
      .replace('{ env: GITHUB_WEBHOOK_SECRET }', '{ evn: X }');
    const problems = problemsOf(text);
    expect(problems).toContainEqual(
      expect.objectContaining({
        path: 'listn',
        line: 1,
        column: 1,
        message: 'unknown key "listn" (did you mean "listen"?)',
      }),
    );
    expect(problems).toContainEqual(
      expect.objectContaining({
        path: 'projects[0].branch',
        line: 5,
        column: 5,
        message: 'unknown key "branch" (did you mean "branches"?)',
      }),
    );
    expect(problems).toContainEqual(
      expect.objectContaining({
        path: 'projects[0].webhooks.githb',
        line: 7,
        message: expect.stringContaining('"github"'),
      }),
    );
    const secret = problemsOf(MINIMAL.replace('{ env: GITHUB_WEBHOOK_SECRET }', '{ evn: X }'));
    expect(secret).toContainEqual(
      expect.objectContaining({ path: 'projects[0].webhooks.github.secret.evn', line: 6, column: 19 }),
    );
    expect(secret.find((p) => p.path.endsWith('.evn'))?.message).toContain('did you mean "env"');
  });

  it('refuses a project name used twice, and one repository and path built twice', () => {
    const twice = `${MINIMAL}  - name: app\n    repository: https://git.example.com/team/app/\n`;
    const problems = problemsOf(twice);
    expect(problems).toContainEqual(
      expect.objectContaining({
        path: 'projects[1].name',
        line: 7,
        column: 11,
        message: 'project "app" is already defined at projects[0]',
      }),
    );
    expect(problems).toContainEqual(
      expect.objectContaining({
        path: 'projects[1].repository',
        line: 8,
        message: expect.stringContaining('own "path"'),
      }),
    );
    const monorepo = `${MINIMAL}  - name: web\n    repository: https://git.example.com/team/app\n    path: web\n`;
    expect(parseServerConfig(monorepo, 'k.yaml').projects.map((p) => p.repositoryKey)).toEqual([
      'https://git.example.com/team/app',
      'https://git.example.com/team/app',
    ]);
  });

  it('refuses a bad cron expression, a cron that never fires, and an unknown time zone', () => {
    const schedule = (s: string) => MINIMAL.replace('    webhooks:', `    schedules:\n      - ${s}\n    webhooks:`);
    const bad = problemsOf(schedule('{ cron: "61 3 * * *" }'));
    expect(bad).toEqual([expect.objectContaining({ path: 'projects[0].schedules[0].cron', line: 5, column: 17 })]);
    expect(bad[0]?.message).toMatch(/not a cron expression: .*minute/);
    expect(problemsOf(schedule('{ cron: "* * * *" }'))[0]?.message).toContain('expected 5 fields');
    expect(problemsOf(schedule('{ cron: "0 0 31 2 *" }'))[0]?.message).toContain('never fires');
    const tz = problemsOf(schedule('{ cron: "0 3 * * *", timezone: Mars/Olympus }'));
    expect(tz).toEqual([expect.objectContaining({ path: 'projects[0].schedules[0].timezone', line: 5 })]);
    expect(tz[0]?.message).toContain('unknown time zone "Mars/Olympus"');
    const ok = parseServerConfig(schedule('{ cron: "@daily" }'), 'k.yaml');
    expect(ok.projects[0]?.schedules).toEqual([{ cron: '@daily', timezone: 'UTC', ref: 'main' }]);
  });

  it('refuses a priority class that "classes" does not list, with a did-you-mean', () => {
    const text = MINIMAL.replace(
      '    webhooks:',
      '    priority:\n      - { branches: [main], class: hihg }\n    webhooks:',
    );
    const problems = problemsOf(text);
    expect(problems).toEqual([expect.objectContaining({ path: 'projects[0].priority[0].class', line: 5, column: 36 })]);
    expect(problems[0]?.message).toContain('unknown priority class "hihg" (did you mean "high"?)');
    const custom = problemsOf(`classes: [urgent, routine]\n${MINIMAL}`);
    expect(custom[0]?.message).toContain('give "priority"');
  });

  it('refuses notifications to anything but http(s), and a database URL with a password', () => {
    const notify = (url: string) =>
      MINIMAL.replace('    webhooks:', `    notify:\n      - { url: "${url}", secret: { env: N } }\n    webhooks:`);
    const problems = problemsOf(notify('ftp://hooks.example.com/x'));
    expect(problems).toEqual([expect.objectContaining({ path: 'projects[0].notify[0].url', line: 5 })]);
    expect(problems[0]?.message).toContain('http:// or https://');
    expect(problemsOf(notify('file:///etc/passwd'))[0]?.path).toBe('projects[0].notify[0].url');
    const db = problemsOf(`database: postgres://kiln:pw@db/kiln\n${MINIMAL}`);
    expect(db).toEqual([expect.objectContaining({ path: 'database', line: 1, column: 11 })]);
    expect(db[0]?.message).toContain('PGPASSWORD');
  });

  it('refuses credentials for a repository they would not be sent to, or sent in clear', () => {
    const creds = '    credentials: { username: bot, password: { env: T } }\n';
    const file = problemsOf(`${MINIMAL.replace(/https:\/\/git\S+/, 'file:///srv/git/app')}${creds}`);
    expect(file).toEqual([expect.objectContaining({ path: 'projects[0].credentials', line: 7 })]);
    const http = problemsOf(`${MINIMAL.replace('https://', 'http://')}${creds}`);
    expect(http[0]?.message).toContain('https://');
  });

  it('reads listen as host and port, IPv6 in brackets', () => {
    const listen = (text: string) => parseServerConfig(`listen: "${text}"\n${MINIMAL}`, 'k.yaml').listen;
    expect(listen('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(listen('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    for (const bad of ['8080', 'host:', 'host:65536', 'a b:80', '::1:80']) {
      expect(problemsOf(`listen: "${bad}"\n${MINIMAL}`), bad).toEqual([
        expect.objectContaining({ path: 'listen', line: 1, message: expect.stringContaining('host:port') }),
      ]);
    }
  });

  it('reports every problem at once, and duplicate keys', () => {
    const problems = problemsOf(`listen: nowhere\nconcurrency: 0\n${MINIMAL.replace('name: app', 'name: App')}`);
    expect(problems.map((p) => p.path)).toEqual(['listen', 'concurrency', 'projects[0].name']);
    // The rules across keys are reported beside the schema's problems, and a key is not reported twice.
    const mixed = problemsOf(
      `${MINIMAL}    colour: blue\n    priority: [{ branches: [main], class: Top }]\n  - name: app\n    repository: file:///srv/a\n`,
    );
    expect(mixed.map((p) => p.path)).toEqual([
      'projects[0].priority[0].class',
      'projects[0].colour',
      'projects[1].name',
    ]);
    expect(mixed[0]?.message).toContain('expected a class name');
    expect(mixed[2]?.message).toBe('project "app" is already defined at projects[0]');
    expect(problemsOf(`${MINIMAL}listen: 127.0.0.1:1\nlisten: 127.0.0.1:2\n`)).toEqual([
      { path: '', line: 8, column: 1, message: 'Map keys must be unique' },
    ]);
  });

  it('keeps the committed editor schema in sync with the code, once generated', () => {
    const schema = serverJsonSchema() as { title: string; properties: Record<string, unknown> };
    expect(schema.title).toBe('kiln-server.yaml');
    expect(Object.keys(schema.properties)).toEqual([
      'listen',
      'database',
      'concurrency',
      'leaseSeconds',
      'classes',
      'historyDays',
      'limits',
      'slo',
      'alerting',
      'projects',
    ]);
    let committed: unknown;
    try {
      committed = JSON.parse(readFileSync('schema/kiln-server.schema.json', 'utf8'));
    } catch {
      return; // written by `npm run gen:schema`
    }
    expect(committed).toEqual(schema);
  });
});

describe('hostile and huge kiln-server.yaml files', () => {
  it('refuses a YAML alias bomb', () => {
    const levels = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (const [prev, name] of ['ab', 'bc', 'cd', 'de', 'ef', 'fg', 'gh', 'hi'] as const) {
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    expect(problemsOf(`${levels.join('\n')}\n`)).toEqual([
      expect.objectContaining({ line: 1, message: expect.stringContaining('YAML aliases') }),
    ]);
  });

  it('refuses a file over 1 MiB, from text or from a file it does not read', async () => {
    expect(() => parseServerConfig(`${MINIMAL}# ${'x'.repeat(1024 * 1024)}\n`, 'kiln-server.yaml')).toThrow(
      /kiln-server\.yaml is 1\.0 MiB, more than the 1\.0 MiB a kiln-server\.yaml may have/,
    );
    const file = join(tempDir(), 'kiln-server.yaml');
    writeFileSync(file, MINIMAL);
    truncateSync(file, 8 * 1024 * 1024);
    const err = await loadServerConfigFile(file).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'KILN_CONFIG_INVALID', message: expect.stringContaining('is 8.0 MiB') });
    expect((err as KilnError).hint).toContain('kiln-server.yaml');
    const missing = await loadServerConfigFile(join(tempDir(), 'nope.yaml')).catch((e: unknown) => e);
    expect(missing).toMatchObject({
      code: 'KILN_CONFIG_NOT_FOUND',
      message: expect.stringContaining('no kiln-server.yaml'),
    });
  });

  it('names the schema file in the hint of an invalid file', () => {
    let err: KilnError | undefined;
    try {
      parseServerConfig('projects: []\n', 'kiln-server.yaml');
    } catch (e) {
      err = e as KilnError;
    }
    expect(err?.hint).toContain('schema/kiln-server.schema.json');
    expect(err?.message).toContain('kiln-server.yaml:1:11: projects:');
  });
});
