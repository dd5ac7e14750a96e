import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Kiln } from '../../../src/app/index.js';
import { parseServerConfig } from '../../../src/config/index.js';
import { listDeliveries, notificationOutbox, notificationSender } from '../../../src/farm/notify.js';
import { buildService } from '../../../src/farm/service.js';
import { storeQueue } from '../../../src/farm/store-queue.js';
import { verifyStandardSignature } from '../../../src/server/webhooks/standard.js';
import { openSqliteStore, type Store } from '../../../src/store/index.js';
import { recordFarmBuild } from '../../helpers/store.js';
import { tempDir } from '../../helpers/tmp.js';

const SECRET = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
const COMMIT = 'c'.repeat(40);
const secrets = { env: { NOTIFY_SECRET: SECRET }, readFile: async () => '' };

interface Received {
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** An HTTP receiver on 127.0.0.1 that answers each request as `answer` says (or never, when it returns undefined). */
async function receiver(answer: (n: number) => number | undefined) {
  const received: Received[] = [];
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8') });
      const status = answer(received.length);
      if (status === undefined) hanging.push(res);
      else res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/kiln?token=t`;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url, received, hanging };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fixture(url: string, events: string) {
  const config = parseServerConfig(
    `projects:
  - name: web
    repository: file:///srv/git/web
    notify:
      - url: "${url}"
        secret: { env: NOTIFY_SECRET }
        events: [${events}]
`,
    join(tempDir(), 'kiln-server.yaml'),
  );
  const store: Store = await openSqliteStore(join(tempDir(), 'store.db'));
  cleanups.push(() => store.close());
  const queue = storeQueue(store, {
    global: 1,
    perProject: 1,
    onChange: notificationOutbox({ config, host: 'kiln.test' }),
  });
  return { config, store, queue };
}

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('notifications of job state changes', () => {
  it('retries a failing receiver with the same ids and signature scheme until it answers 2xx, then records it delivered', async () => {
    const hook = await receiver((n) => (n <= 2 ? 500 : 200));
    const { config, store, queue } = await fixture(hook.url, 'queued, succeeded');
    const { id: jobId } = await queue.submit({ project: 'web', commit: COMMIT, branch: 'main' });
    const sender = notificationSender({ store, config, secrets, pollMs: 10, backoffMs: 20, timeoutMs: 2_000 });
    sender.start();
    cleanups.push(() => sender.stop());
    await until('the delivery to be recorded delivered', async () => {
      const [d] = await listDeliveries(store);
      return d?.status === 'delivered';
    });
    await sender.stop();

    expect(hook.received).toHaveLength(3);
    const ids = new Set(hook.received.map((r) => r.headers['webhook-id']));
    expect(ids.size).toBe(1);
    const events = hook.received.map((r) => JSON.parse(r.body));
    expect(new Set(events.map((e) => e.id)).size).toBe(1);
    expect(events[0]).toMatchObject({
      specversion: '1.0',
      type: 'dev.kiln.build.queued',
      source: 'kiln://kiln.test/projects/web',
      datacontenttype: 'application/json',
      data: { jobId, project: 'web', commit: COMMIT, branch: 'main', status: 'queued', buildId: null },
    });
    for (const r of hook.received) {
      expect(r.headers['content-type']).toContain('application/cloudevents+json');
      // Kiln's own Standard Webhooks receiver accepts every attempt.
      verifyStandardSignature({ headers: r.headers, rawBody: Buffer.from(r.body), secret: SECRET, maxBodyBytes: 1e6 });
    }
    const [delivery] = await listDeliveries(store);
    expect(delivery).toMatchObject({
      id: [...ids][0],
      eventId: events[0].id,
      type: 'dev.kiln.build.queued',
      job: jobId,
      status: 'delivered',
      attempts: 3,
      lastStatus: 200,
      lastError: null,
      nextAttemptAt: null,
    });
    expect(delivery?.url).not.toContain('token'); // the query may hold a secret: not shown
  });

  it('gives up after the last attempt and records the failure', async () => {
    const hook = await receiver(() => 503);
    const { config, store, queue } = await fixture(hook.url, 'queued');
    await queue.submit({ project: 'web', commit: COMMIT, branch: 'main' });
    const sender = notificationSender({ store, config, secrets, pollMs: 10, backoffMs: 10, maxAttempts: 3 });
    sender.start();
    cleanups.push(() => sender.stop());
    await until('the delivery to be given up', async () => (await listDeliveries(store))[0]?.status === 'failed');
    await new Promise((r) => setTimeout(r, 100)); // and nothing more is sent
    await sender.stop();
    expect(hook.received).toHaveLength(3);
    expect((await listDeliveries(store))[0]).toMatchObject({ status: 'failed', attempts: 3, lastStatus: 503 });
    expect((await listDeliveries(store))[0]?.lastError).toContain('503');
  });

  it('writes the event of an ended job with its build id and artifact digests, in the transaction that ends it', async () => {
    const { store, queue } = await fixture('https://hooks.example.test/kiln', 'succeeded');
    const digest = `sha256:${'d'.repeat(64)}`;
    await recordFarmBuild(store, 'build-1', [{ name: 'app', digest, manifest: digest }]);
    const { id } = await queue.submit({ project: 'web', commit: COMMIT, branch: 'main' });
    expect(await listDeliveries(store)).toEqual([]); // not subscribed to queued or started
    const lease = await queue.lease('w1', {}, 60_000);
    expect(lease.kind).toBe('leased');
    expect(await queue.complete(id, 'w1', 'succeeded', 'build-1')).toBe(true);
    const rows = await store.db.selectFrom('notifications').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(JSON.parse(rows[0]?.body ?? '{}')).toMatchObject({
      type: 'dev.kiln.build.succeeded',
      subject: id,
      data: { jobId: id, status: 'succeeded', buildId: 'build-1', artifacts: [{ name: 'app', digest }] },
    });
  });

  it('lets a build complete while the receiver hangs, and stops the sender promptly', async () => {
    const hook = await receiver(() => undefined);
    const { config, store, queue } = await fixture(hook.url, 'queued, started, succeeded');
    const sender = notificationSender({ store, config, secrets, pollMs: 10, timeoutMs: 60_000 });
    sender.start();
    cleanups.push(() => sender.stop());
    const kiln = {
      resolveRemote: async () => ({ commit: COMMIT, branch: 'main' }),
      // The build starts only once the receiver holds an unanswered notification.
      build: async () => {
        await until('the receiver to hold a request', () => hook.received.length > 0);
        return { buildId: 'build-1' };
      },
    } as unknown as Kiln;
    const service = buildService({
      kiln,
      queue,
      store,
      config,
      secrets,
      deliveryDir: tempDir(),
      pollMs: 10,
      version: 'test',
    });
    service.start(1);
    cleanups.push(() => service.drain());

    const t0 = Date.now();
    const { id } = await service.submit({ project: 'web', ref: 'refs/heads/main' });
    await until('the job to succeed', async () => (await queue.get(id))?.state === 'succeeded', 3_000);
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(hook.hanging.length).toBeGreaterThan(0); // still unanswered
    const deliveries = await listDeliveries(store);
    expect(deliveries.map((d) => d.type).sort()).toEqual([
      'dev.kiln.build.queued',
      'dev.kiln.build.started',
      'dev.kiln.build.succeeded',
    ]);
    expect(deliveries.every((d) => d.status === 'pending')).toBe(true);

    const s0 = Date.now();
    await sender.stop();
    expect(Date.now() - s0).toBeLessThan(1_000);
    // An attempt cut short by stop() is not counted: the notification stays due for the next start.
    expect((await listDeliveries(store)).every((d) => d.status === 'pending' && d.attempts === 0)).toBe(true);
  });
});
