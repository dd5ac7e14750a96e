// The webhook endpoints in process (Hono's app.request()), over the real build service, queue and store, and a real
// git repository served as file://: a verified push queues its exact commit, once per delivery id; whatever does
// not verify, is too large, or names a repository the server does not build queues nothing.
import { createHmac, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerConfig } from '../../../src/app/index.js';
import { apiService } from '../../../src/cli/serve.js';
import { buildService } from '../../../src/farm/service.js';
import { storeQueue } from '../../../src/farm/store-queue.js';
import { webhookIntake } from '../../../src/farm/webhooks.js';
import { createApi } from '../../../src/server/api.js';
import { harness } from '../../helpers/harness.js';
import { demoProject } from '../../helpers/project.js';
import { git, makeRepo, writeFiles } from '../../helpers/repo.js';
import { fileTempDir } from '../../helpers/tmp.js';

const root = fileTempDir();
const repo = join(root, 'repo');
const first = makeRepo(repo, demoProject());
writeFiles(repo, { 'src/util.js': 'export const twice = (x) => x + x;\n' });
git(repo, ['commit', '-qam', 'change'], '2024-05-02T00:00:00Z');
const head = git(repo, ['rev-parse', 'HEAD']).trim();
const h = harness({ cwd: root, home: fileTempDir('kiln-home-') });

const GITHUB_SECRET = 'gh-secret-of-the-test';
const GITLAB_TOKEN = 'gl-token-of-the-test';
const STANDARD_KEY = randomBytes(32);
const STANDARD_SECRET = `whsec_${STANDARD_KEY.toString('base64')}`;
const LIMIT = 4096;
const STANDARD_REPO = 'https://git.example.test/acme/standard.git';
const env = { GH_SECRET: GITHUB_SECRET, GL_TOKEN: GITLAB_TOKEN, STD_SECRET: STANDARD_SECRET };

const bugs: unknown[] = [];
const logged: string[] = [];
let app: ReturnType<typeof createApi>;
let queue: ReturnType<typeof storeQueue>;
/** What the Standard Webhooks project's (https, unreachable) submissions were. */
const standardSubmits: unknown[] = [];

beforeAll(async () => {
  const file = join(root, 'kiln-server.yaml');
  writeFileSync(
    file,
    [
      `limits: { webhookBodyBytes: ${LIMIT} }`,
      'projects:',
      '  - name: demo',
      `    repository: file://${repo}`,
      '    branches: [main]',
      '    webhooks:',
      '      github: { secret: { env: GH_SECRET } }',
      '      gitlab: { token: { env: GL_TOKEN } }',
      // Same repository, a secret that cannot be read: the server logs it; the other project still takes pushes.
      '  - name: unreadable',
      `    repository: file://${repo}.git`,
      '    path: sub',
      '    webhooks:',
      '      github: { secret: { env: NOT_SET } }',
      '  - name: remote',
      `    repository: ${STANDARD_REPO}`,
      '    webhooks:',
      '      standard: { secret: { env: STD_SECRET } }',
      '',
    ].join('\n'),
  );
  const config: ServerConfig = await h.kiln.loadServerConfig(file);
  const store = await h.ports.store();
  queue = storeQueue(store, { global: 1, perProject: 1 });
  const secrets = { env, readFile: async () => '' };
  const service = buildService({
    kiln: h.kiln,
    queue,
    store,
    version: 'test',
    config,
    secrets,
    deliveryDir: join(root, 'out'),
    log: () => {},
  });
  // No worker is started: the jobs stay queued, to be looked at.
  const real = apiService(service);
  app = createApi({
    kiln: h.kiln,
    version: '9.9.9',
    service: {
      ...real,
      submit: async (request) => {
        if (request.project !== 'remote') return real.submit(request);
        standardSubmits.push(request);
        return { id: 'job-of-remote', deduplicated: false, superseded: [], position: 1 };
      },
    },
    webhooks: webhookIntake({ config, store, secrets, log: (m) => logged.push(m) }),
    onBug: (e) => bugs.push(e),
  });
});
afterAll(async () => {
  await h.kiln.close();
  expect(bugs).toEqual([]);
});

const body = async (r: Response) => JSON.parse(await r.text());
const jobs = async () => (await queue.list({ states: ['queued', 'running'], limit: 100 })).map((j) => j.id);

function githubPush(commit: string, opts: { ref?: string; url?: string } = {}): Buffer {
  return Buffer.from(
    JSON.stringify(
      {
        ref: opts.ref ?? 'refs/heads/main',
        before: first,
        after: commit,
        repository: { full_name: 'acme/demo', clone_url: opts.url ?? `file://${repo}` },
        head_commit: { id: commit },
      },
      null,
      2,
    ),
  );
}

function github(raw: Buffer, delivery: string, opts: { event?: string; secret?: string } = {}) {
  const signature = createHmac('sha256', opts.secret ?? GITHUB_SECRET)
    .update(raw)
    .digest('hex');
  return app.request('/v1/webhooks/github', {
    method: 'POST',
    body: raw,
    headers: {
      'content-type': 'application/json',
      'x-github-event': opts.event ?? 'push',
      'x-github-delivery': delivery,
      'x-hub-signature-256': `sha256=${signature}`,
    },
  });
}

describe('POST /v1/webhooks/github', () => {
  it('queues the pushed commit (not the head of the ref) for a verified push, once per delivery id', async () => {
    const r = await github(githubPush(first), 'd-1');
    expect(r.status).toBe(202);
    const accepted = await body(r);
    expect(accepted).toEqual({
      delivery: 'd-1',
      builds: [{ project: 'demo', id: expect.any(String), deduplicated: false }],
      ignored: [],
    });
    const job = await queue.get(accepted.builds[0].id);
    expect(job).toMatchObject({ project: 'demo', commit: first, branch: 'main', state: 'queued' });
    expect(logged).toEqual([
      'a github webhook delivery cannot be verified for project "unreadable" webhooks.github.secret: environment variable NOT_SET is not set or empty',
    ]);
    expect(first).not.toBe(head);

    // The same delivery again (the sender retries): acknowledged, and nothing new queued, even once the job ended.
    await queue.cancel(accepted.builds[0].id);
    const before = await jobs();
    const again = await github(githubPush(first), 'd-1');
    expect([again.status, await body(again)]).toEqual([
      200,
      { delivery: 'd-1', duplicate: true, builds: [{ project: 'demo', id: accepted.builds[0].id }] },
    ]);
    expect(await jobs()).toEqual(before);
    expect((await queue.list({ limit: 100 })).length).toBe(1);
  });

  it('queues a redelivery sent many times at once only once', async () => {
    const all = await Promise.all([1, 2, 3, 4].map(() => github(githubPush(head), 'd-race')));
    expect(all.map((r) => r.status).sort()).toEqual([200, 200, 200, 202]);
    const queued = (await queue.list({ limit: 100 })).filter((j) => j.commit === head);
    expect(queued).toHaveLength(1);
    await queue.cancel(queued[0]?.id as string);
  });

  it('refuses a bad signature (401), an unknown repository (404) and a body over the limit (413), queueing nothing', async () => {
    const count = (await queue.list({ limit: 100 })).length;
    const bad = await github(githubPush(first), 'd-bad', { secret: 'not-the-secret' });
    expect([bad.status, (await body(bad)).error.code]).toEqual([401, 'KILN_UNAUTHENTICATED']);
    const unknown = await github(githubPush(first, { url: 'https://github.com/someone/else.git' }), 'd-unknown');
    expect([unknown.status, (await body(unknown)).error.code]).toEqual([404, 'KILN_NOT_FOUND']);

    const large = Buffer.concat([githubPush(first).subarray(0, -2), Buffer.from(`,"pad":"${'x'.repeat(LIMIT)}"}`)]);
    JSON.parse(large.toString());
    const tooLarge = await github(large, 'd-large');
    expect([tooLarge.status, (await body(tooLarge)).error.code]).toEqual([413, 'KILN_PAYLOAD_TOO_LARGE']);
    // Also without a Content-Length: a streamed body is cut off at the limit.
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1024;
        if (pulled > 64 * 1024) controller.close();
        else controller.enqueue(new Uint8Array(1024).fill(32));
      },
    });
    const streamed = await app.request('/v1/webhooks/github', {
      method: 'POST',
      body: stream,
      headers: { 'x-github-event': 'push', 'x-github-delivery': 'd-stream' },
      duplex: 'half',
    } as RequestInit);
    expect([streamed.status, (await body(streamed)).error.code]).toEqual([413, 'KILN_PAYLOAD_TOO_LARGE']);
    expect(pulled).toBeLessThanOrEqual(LIMIT + 3 * 1024); // read stopped near the limit, not at the end
    // A Content-Length over the limit is refused before a byte is read.
    let asked = 0;
    const declared = await app.request('/v1/webhooks/github', {
      method: 'POST',
      body: new ReadableStream<Uint8Array>({
        pull: (controller) => {
          asked++;
          controller.enqueue(new Uint8Array(1024).fill(32));
        },
      }),
      headers: { 'content-length': String(10 * 1024 * 1024), 'x-github-event': 'push', 'x-github-delivery': 'd-cl' },
      duplex: 'half',
    } as RequestInit);
    expect([declared.status, (await body(declared)).error.message]).toEqual([
      413,
      `github webhook body is ${10 * 1024 * 1024} bytes; the limit is ${LIMIT} bytes`,
    ]);
    expect(asked).toBeLessThanOrEqual(1); // a stream may be asked for its first chunk when made; nothing more
    expect((await queue.list({ limit: 100 })).length).toBe(count);

    // A delivery refused is not recorded: the same id, signed right, is built.
    const good = await github(githubPush(first), 'd-bad');
    expect(good.status).toBe(202);
    await queue.cancel((await body(good)).builds[0].id);
  });

  it('ignores a branch the project does not build, and a ping, queueing nothing', async () => {
    const count = (await queue.list({ limit: 100 })).length;
    const other = await github(githubPush(first, { ref: 'refs/heads/feature/x' }), 'd-feature');
    expect([other.status, await body(other)]).toEqual([
      202,
      {
        delivery: 'd-feature',
        builds: [],
        ignored: [{ project: 'demo', reason: expect.stringContaining('refs/heads/feature/x') }],
      },
    ]);
    const ping = await github(
      Buffer.from(JSON.stringify({ zen: 'hi', repository: { clone_url: `file://${repo}` } })),
      'd-ping',
      {
        event: 'ping',
      },
    );
    expect([ping.status, await body(ping)]).toEqual([200, { delivery: 'd-ping', ignored: 'ping' }]);
    expect((await queue.list({ limit: 100 })).length).toBe(count);
  });
});

describe('POST /v1/webhooks/gitlab and /standard', () => {
  it('queues a GitLab push carrying the configured token, and refuses a wrong one', async () => {
    const raw = Buffer.from(
      JSON.stringify({
        object_kind: 'push',
        ref: 'refs/heads/main',
        before: first,
        after: head,
        checkout_sha: head,
        project: { git_http_url: `file://${repo}` },
      }),
    );
    const send = (token: string, id: string) =>
      app.request('/v1/webhooks/gitlab', {
        method: 'POST',
        body: raw,
        headers: { 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': id, 'x-gitlab-token': token },
      });
    const wrong = await send('not-the-token', 'gl-1');
    expect(wrong.status).toBe(401);
    const r = await send(GITLAB_TOKEN, 'gl-1');
    expect(r.status).toBe(202);
    const { builds } = await body(r);
    expect(await queue.get(builds[0].id)).toMatchObject({ project: 'demo', commit: head, state: 'queued' });
    // GitLab's redelivery of the same event: acknowledged, nothing queued.
    expect((await send(GITLAB_TOKEN, 'gl-1')).status).toBe(200);
    await queue.cancel(builds[0].id);
  });

  it('takes a Standard Webhooks delivery signed per the specification, for the project whose secret verifies', async () => {
    const raw = Buffer.from(JSON.stringify({ repository: STANDARD_REPO, ref: 'main', commit: 'A'.repeat(40) }));
    const send = (key: Buffer) => {
      const id = 'msg_test1';
      const at = Math.floor(Date.now() / 1000);
      const signed = Buffer.concat([Buffer.from(`${id}.${at}.`), raw]);
      const signature = createHmac('sha256', key).update(signed).digest('base64');
      return app.request('/v1/webhooks/standard', {
        method: 'POST',
        body: raw,
        headers: { 'webhook-id': id, 'webhook-timestamp': String(at), 'webhook-signature': `v1,${signature}` },
      });
    };
    expect((await send(randomBytes(32))).status).toBe(401);
    expect(standardSubmits).toEqual([]);
    const r = await send(STANDARD_KEY);
    expect([r.status, await body(r)]).toEqual([
      202,
      { delivery: 'msg_test1', builds: [{ project: 'remote', id: 'job-of-remote', deduplicated: false }], ignored: [] },
    ]);
    expect(standardSubmits).toEqual([{ project: 'remote', ref: 'refs/heads/main', commit: 'a'.repeat(40) }]);
    // A project of the repository without a GitHub webhook: nothing to verify a GitHub delivery with.
    const github = await app.request('/v1/webhooks/github', {
      method: 'POST',
      body: githubPush(first, { url: STANDARD_REPO }),
      headers: { 'x-github-event': 'push', 'x-github-delivery': 'x', 'x-hub-signature-256': 'sha256=00' },
    });
    expect([github.status, (await body(github)).error.code]).toEqual([404, 'KILN_NOT_FOUND']);
  });
});
