// Secrets planted everywhere a farm reads them (a GitHub webhook secret, git credentials over HTTP, a notification
// secret in a file, a GitHub token, API tokens, registry and PostgreSQL passwords in the environment) appear in no
// log line, event, store row or file the server writes; and `--log-format json` gives one object per line with the
// job, attempt, step and worker of every build line.
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { filesContaining, type GitServer, startGitHttp } from '../helpers/git-serve.js';
import { startHttpStub, until } from '../helpers/http-stub.js';
import { demoProject } from '../helpers/project.js';
import { kiln, makeRepo } from '../helpers/repo.js';
import { type Body, callApi, startServe, stopServers } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

const servers: GitServer[] = [];
afterEach(async () => {
  stopServers();
  for (const s of servers.splice(0)) await s.stop();
});

const SECRETS = {
  webhook: 'whk-Secret-7a1f3c9e2b',
  git: 'git-Pa55-word-4d8e0b',
  notify: 'ntf-Secret-19c2e8a7f0',
  github: 'ghp_redaction0123456789abcdef',
  registry: 'reg-Pa55-6b0d2e9c41',
  postgres: 'pg-Pa55-3e7a1c5f9d',
};

describe('secrets in a farm server', () => {
  it('never reach its log, events, store or files; its JSON log names the job, step and worker of each line', async () => {
    const receiver = await startHttpStub(() => ({ status: 204 }));
    const github = await startHttpStub(() => ({ status: 201, body: '{"id":1}' }));
    try {
      const root = tempDir();
      const home = join(root, 'home');
      const commit = makeRepo(join(root, 'served', 'repo'), demoProject());
      const git = await startGitHttp(join(root, 'served'), { username: 'builder', password: SECRETS.git });
      servers.push(git);
      writeFileSync(join(root, 'notify-secret'), `${SECRETS.notify}\n`);
      const config = join(root, 'kiln-server.yaml');
      writeFileSync(
        config,
        `projects:
  - name: demo
    repository: ${git.url}/repo
    credentials: { username: builder, password: { env: GIT_PASSWORD } }
    webhooks:
      github: { secret: { env: GH_WEBHOOK_SECRET } }
    notify:
      - { url: "${receiver.url}/hook", secret: { file: notify-secret } }
    statuses:
      github: { token: { env: GH_TOKEN }, api: "${github.url}/api/v3", repository: acme/demo }
`,
      );
      const trigger = kiln(['tokens', 'create', '--scope', 'trigger'], { cwd: root, home }).stdout.trim();
      const read = kiln(['tokens', 'create', '--scope', 'read'], { cwd: root, home }).stdout.trim();
      const served = await startServe(home, ['--config', config, '--log-format', 'json'], {
        GIT_PASSWORD: SECRETS.git,
        GH_WEBHOOK_SECRET: SECRETS.webhook,
        GH_TOKEN: SECRETS.github,
        KILN_REGISTRY_PASSWORD: SECRETS.registry,
        PGPASSWORD: SECRETS.postgres,
      });
      const { url } = served;

      // A signed push and an API submission (forced: the same commit again), then a forged push and a bad token.
      const raw = JSON.stringify({
        ref: 'refs/heads/main',
        after: commit,
        repository: { full_name: 'acme/demo', clone_url: `${git.url}/repo` },
        head_commit: { id: commit },
      });
      const push = (secret: string, delivery: string) =>
        fetch(`${url}/v1/webhooks/github`, {
          method: 'POST',
          body: raw,
          headers: {
            'Content-Type': 'application/json',
            'X-GitHub-Event': 'push',
            'X-GitHub-Delivery': delivery,
            'X-Hub-Signature-256': `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`,
          },
        });
      expect((await push(SECRETS.webhook, 'd1')).status).toBe(202);
      expect((await push('forged', 'd2')).status).toBe(401);
      const forced = await callApi(`${url}/v1/builds`, trigger, { project: 'demo', ref: 'main', force: true });
      expect(forced.status).toBe(202);
      expect((await callApi(`${url}/v1/builds`, `${trigger}x`)).status).toBe(401);
      await until(
        'both jobs to end and every delivery to settle',
        async () => {
          const jobs = await Promise.all(
            [forced.json.id].map(async (id: string) => (await callApi(`${url}/v1/builds/${id}`, read)).json.status),
          );
          const deliveries = (await callApi(`${url}/v1/deliveries`, read)).json.deliveries as Body[];
          return (
            jobs.every((s) => s === 'succeeded') &&
            deliveries.length > 0 &&
            deliveries.every((d) => d.status !== 'pending')
          );
        },
        120_000,
      );
      // The server's stderr reaches this process a moment after the job ended.
      await until('the end of the build in its log', () => /"msg":"build \S+ succeeded/.test(served.output()), 10_000);
      const seen: string[] = [served.output()];
      seen.push(JSON.stringify(receiver.received));
      // The GitHub token goes to GitHub, in its Authorization header, and nowhere else.
      expect(github.received.length).toBeGreaterThan(0);
      for (const r of github.received) {
        const { authorization, ...headers } = r.headers as Record<string, string>;
        expect(authorization).toBe(`Bearer ${SECRETS.github}`);
        seen.push(JSON.stringify({ ...r, headers }));
      }
      for (const path of ['/v1/builds', '/v1/deliveries', '/v1/queue', '/v1/workers', `/v1/builds/${forced.json.id}`]) {
        seen.push(JSON.stringify((await callApi(`${url}${path}`, read)).json));
      }
      const logs = await fetch(`${url}/v1/builds/${forced.json.id}/logs`, {
        headers: { Authorization: `Bearer ${read}` },
      });
      seen.push(await logs.text());
      const metrics = await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${read}` } });
      seen.push(await metrics.text());

      const planted = [
        ...Object.values(SECRETS),
        trigger,
        read,
        Buffer.from(`builder:${SECRETS.git}`).toString('base64'),
        Buffer.from(SECRETS.git).toString('base64'),
      ];
      for (const text of seen) for (const s of planted) expect(text.includes(s), s).toBe(false);
      expect(filesContaining(home, planted)).toEqual([]);

      // Every stderr line is one JSON object; build lines carry their job, attempt and worker, step lines their step.
      const lines = served
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'));
      const objects = lines.map((l) => JSON.parse(l) as Body);
      expect(objects.length).toBeGreaterThan(10);
      for (const o of objects)
        expect(o).toMatchObject({ time: expect.any(String), level: expect.any(String), service: 'kiln-serve' });
      const buildLines = objects.filter((o) => o.jobId === forced.json.id);
      expect(buildLines.some((o) => o.step === 'compile' && typeof o.workerId === 'string' && o.attempt === 1)).toBe(
        true,
      );
      expect(buildLines.some((o) => /^build \S+ succeeded/.test(o.msg))).toBe(true);
    } finally {
      await Promise.all([receiver.close(), github.close()]);
    }
  }, 180_000);
});
