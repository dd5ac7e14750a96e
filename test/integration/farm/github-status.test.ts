// Commit statuses through the outbox and the sender, against a stub of GitHub's statuses API on 127.0.0.1 that
// checks the documented request: POST /repos/{owner}/{repo}/statuses/{sha}, its headers and body.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseServerConfig } from '../../../src/config/index.js';
import { listDeliveries, notificationOutbox, notificationSender } from '../../../src/farm/notify.js';
import { storeQueue } from '../../../src/farm/store-queue.js';
import { openSqliteStore, type Store } from '../../../src/store/index.js';
import { type StubAnswer, type StubRequest, startHttpStub, until } from '../../helpers/http-stub.js';
import { tempDir } from '../../helpers/tmp.js';

const COMMIT = 'c'.repeat(40);
const TOKEN = 'ghp_test_token_never_stored_0123456789';
const secrets = { env: { GITHUB_TOKEN: TOKEN }, readFile: async () => '' };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** GitHub as documented: 201 with the status for a well-formed request, 4xx otherwise; `answer` may override. */
async function githubStub(answer?: (n: number) => StubAnswer | undefined) {
  const stub = await startHttpStub((n, req) => answer?.(n) ?? documented(req));
  cleanups.push(() => stub.close());
  return stub;
}

function documented(req: StubRequest): StubAnswer {
  const h = req.headers;
  if (h.authorization !== `Bearer ${TOKEN}`) return { status: 401, body: '{"message":"Bad credentials"}' };
  const body = JSON.parse(req.body) as Record<string, unknown>;
  const ok =
    req.method === 'POST' &&
    req.path === `/repos/acme/app/statuses/${COMMIT}` &&
    h.accept === 'application/vnd.github+json' &&
    h['x-github-api-version'] === '2022-11-28' &&
    typeof h['user-agent'] === 'string' &&
    ['pending', 'success', 'failure', 'error'].includes(String(body.state)) &&
    typeof body.description === 'string' &&
    body.context === 'kiln';
  return ok
    ? { status: 201, body: JSON.stringify({ id: 1, ...body }) }
    : { status: 422, body: '{"message":"Validation Failed"}' };
}

async function fixture(api: string, senderApi = api) {
  const config = parseServerConfig(
    `projects:
  - name: web
    repository: file:///srv/git/web
    statuses:
      github: { token: { env: GITHUB_TOKEN }, api: "${api}", repository: acme/app }
`,
    join(tempDir(), 'kiln-server.yaml'),
  );
  const store: Store = await openSqliteStore(join(tempDir(), 'store.db'));
  cleanups.push(() => store.close());
  // The sender reads the configuration of its own start, which may name another API since the rows were written.
  const senderConfig = parseServerConfig(
    `projects:\n  - name: web\n    repository: file:///srv/git/web\n    statuses:\n      github: { token: { env: GITHUB_TOKEN }, api: "${senderApi}", repository: acme/app }\n`,
    join(tempDir(), 'kiln-server.yaml'),
  );
  const queue = storeQueue(store, {
    global: 1,
    perProject: 1,
    onChange: notificationOutbox({ config, host: 'kiln.test' }),
  });
  const sender = notificationSender({
    store,
    config: senderConfig,
    secrets,
    pollMs: 10,
    backoffMs: 20,
    maxAttempts: 5,
    userAgent: 'kiln/test',
  });
  cleanups.push(() => sender.stop());
  return { store, queue, sender };
}

const states = (received: readonly StubRequest[]) => received.map((r) => JSON.parse(r.body).state);

describe('GitHub commit statuses', () => {
  it('posts pending when queued and started, then success, in the documented shape; the token is never stored', async () => {
    const stub = await githubStub();
    const { store, queue, sender } = await fixture(stub.url);
    sender.start();
    const { id } = await queue.submit({ project: 'web', commit: COMMIT, branch: 'main' });
    await until('the queued status', () => stub.received.length === 1);
    await queue.lease('w1', {}, 60_000);
    await until('the started status', () => stub.received.length === 2);
    await queue.complete(id, 'w1', 'succeeded');
    await until('the success', async () => (await listDeliveries(store)).every((d) => d.status === 'delivered'));

    expect(stub.received.map((r) => JSON.parse(r.body))).toEqual([
      { state: 'pending', description: 'Queued', context: 'kiln' },
      { state: 'pending', description: 'Building (attempt 1)', context: 'kiln' },
      { state: 'success', description: 'Built 0 artifacts', context: 'kiln' },
    ]);
    for (const r of stub.received) {
      expect(r).toMatchObject({ method: 'POST', path: `/repos/acme/app/statuses/${COMMIT}` });
      expect(r.headers).toMatchObject({
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${TOKEN}`,
        'x-github-api-version': '2022-11-28',
        'user-agent': 'kiln/test',
      });
    }
    const deliveries = await listDeliveries(store);
    expect(deliveries.map((d) => [d.kind, d.type, d.status, d.attempts, d.lastStatus])).toEqual([
      ['github-status', 'dev.kiln.build.succeeded', 'delivered', 1, 201],
      ['github-status', 'dev.kiln.build.started', 'delivered', 1, 201],
      ['github-status', 'dev.kiln.build.queued', 'delivered', 1, 201],
    ]);
    expect(deliveries[0]?.url).toBe(`${stub.url}/repos/acme/app/statuses/${COMMIT}`);
    const stored = JSON.stringify(await store.db.selectFrom('notifications').selectAll().execute());
    expect(stored).not.toContain(TOKEN);
  });

  it('maps failed and blocked to failure, lost and cancelled to error', async () => {
    const stub = await githubStub();
    const { store, queue, sender } = await fixture(stub.url);
    const end = async (how: 'failed' | 'blocked' | 'cancel' | 'lost') => {
      const { id } = await queue.submit({
        project: 'web',
        commit: COMMIT,
        branch: 'main',
        force: true,
        maxAttempts: 1,
      });
      if (how === 'cancel') return void (await queue.cancel(id));
      await queue.lease('w1', {}, how === 'lost' ? 1 : 60_000);
      if (how === 'lost') {
        await new Promise((r) => setTimeout(r, 5)); // the 1 ms lease runs out
        await queue.reap();
      } else await queue.complete(id, 'w1', how);
    };
    for (const how of ['failed', 'blocked', 'cancel', 'lost'] as const) await end(how);
    sender.start();
    // Only each job's newest status is sent: the pending ones were superseded before the sender ran.
    await until('every row settled', async () => (await listDeliveries(store)).every((d) => d.status !== 'pending'));
    await new Promise((r) => setTimeout(r, 100));
    expect(states(stub.received).sort()).toEqual(['error', 'error', 'failure', 'failure']);
    const delivered = (await listDeliveries(store)).filter((d) => d.status === 'delivered');
    expect(delivered.map((d) => d.type).sort()).toEqual([
      'dev.kiln.build.blocked',
      'dev.kiln.build.cancelled',
      'dev.kiln.build.failed',
      'dev.kiln.build.failed', // lost: out of attempts
    ]);
  });

  it('sends only the newest status of a job; the older ones are recorded superseded, not sent', async () => {
    const stub = await githubStub();
    const { store, queue, sender } = await fixture(stub.url);
    const { id } = await queue.submit({ project: 'web', commit: COMMIT, branch: 'main' });
    await queue.lease('w1', {}, 60_000);
    await queue.complete(id, 'w1', 'failed');
    sender.start();
    await until('every row settled', async () => (await listDeliveries(store)).every((d) => d.status !== 'pending'));
    expect(states(stub.received)).toEqual(['failure']);
    // Rows written in the same millisecond have no fixed order in the listing: compare them sorted.
    expect((await listDeliveries(store)).map((d) => [d.type, d.status, d.attempts]).sort()).toEqual([
      ['dev.kiln.build.failed', 'delivered', 1],
      ['dev.kiln.build.queued', 'superseded', 0],
      ['dev.kiln.build.started', 'superseded', 0],
    ]);
  });

  it('retries a 5xx with backoff until GitHub takes it', async () => {
    const stub = await githubStub((n) => (n <= 2 ? { status: 502, body: '{"message":"Server Error"}' } : undefined));
    const { store, queue, sender } = await fixture(stub.url);
    await queue.submit({ project: 'web', commit: COMMIT, branch: 'main' });
    sender.start();
    await until('the delivery', async () => (await listDeliveries(store))[0]?.status === 'delivered');
    expect(stub.received).toHaveLength(3);
    expect(new Set(stub.received.map((r) => r.body)).size).toBe(1); // the same status each time
    expect((await listDeliveries(store))[0]).toMatchObject({ attempts: 3, lastStatus: 201, lastError: null });
  });

  it('does not retry a 401 or a 422: the same request would be refused alike', async () => {
    for (const [status, message] of [
      [401, 'Bad credentials'],
      [422, 'No commit found for SHA: cccc'],
    ] as const) {
      const stub = await githubStub(() => ({ status, body: JSON.stringify({ message }) }));
      const { store, queue, sender } = await fixture(stub.url);
      await queue.submit({ project: 'web', commit: COMMIT, branch: 'main' });
      sender.start();
      await until('the refusal', async () => (await listDeliveries(store))[0]?.status === 'failed');
      await new Promise((r) => setTimeout(r, 150)); // several backoff periods: nothing more is sent
      await sender.stop();
      expect(stub.received).toHaveLength(1);
      const [delivery] = await listDeliveries(store);
      expect(delivery).toMatchObject({ status: 'failed', attempts: 1, lastStatus: status });
      expect(delivery?.lastError).toContain(message);
      expect(delivery?.lastError).toContain('not retried');
      expect(delivery?.lastError).not.toContain(TOKEN);
    }
  });

  it('never sends the token to an API the current configuration does not name', async () => {
    const old = await githubStub();
    const current = await githubStub();
    const { store, queue, sender } = await fixture(old.url, current.url);
    await queue.submit({ project: 'web', commit: COMMIT, branch: 'main' });
    sender.start();
    await until('the row to be given up', async () => (await listDeliveries(store))[0]?.status === 'failed');
    expect(old.received).toEqual([]);
    expect(current.received).toEqual([]);
    expect((await listDeliveries(store))[0]?.lastError).toContain('no longer names this repository');
  });
});
