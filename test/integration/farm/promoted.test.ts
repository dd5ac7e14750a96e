// `promoted` notifications over a real store (SQLite and PostgreSQL): a promotion recorded by `kiln promote` (a row
// in `promotions`, from any machine) is announced once, whichever server handle looks first, to the targets of the
// project whose job built the artifact, and delivered signed; a promotion of a CLI build is only marked.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseServerConfig } from '../../../src/config/index.js';
import { announcePromotions, listDeliveries, notificationSender } from '../../../src/farm/notify.js';
import { storeQueue } from '../../../src/farm/store-queue.js';
import { verifyStandardSignature } from '../../../src/server/webhooks/standard.js';
import { recordPromotion, type Store } from '../../../src/store/index.js';
import { type StoreDialectFactory, storeDialects } from '../../helpers/postgres.js';
import { recordFarmBuild } from '../../helpers/store.js';
import { tempDir } from '../../helpers/tmp.js';

const DIALECTS = storeDialects();
let current: StoreDialectFactory;
const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const secrets = { env: { NOTIFY_SECRET: SECRET }, readFile: async () => '' };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const digest = (c: string) => `sha256:${c.repeat(64)}`;

function config(url: string) {
  return parseServerConfig(
    `projects:
  - name: web
    repository: file:///srv/git/web
    notify:
      - url: "${url}"
        secret: { env: NOTIFY_SECRET }
        events: [promoted]
      - url: "${url}/other"
        secret: { env: NOTIFY_SECRET }
        events: [succeeded]
`,
    join(tempDir(), 'kiln-server.yaml'),
  );
}

/** A build `id` with one artifact whose manifest is `manifest`. */
function recordBuild(store: Store, id: string, manifest: string): Promise<void> {
  return recordFarmBuild(store, id, [{ name: 'app', digest: digest('a'), manifest }]);
}

function promotion(id: string, manifest: string, environment: string) {
  return {
    id,
    project: 'web-app',
    artifact_name: 'app',
    manifest_digest: manifest,
    environment,
    from_ref: `127.0.0.1:5000/web@${manifest}`,
    to_ref: `127.0.0.1:5000/web-${environment}@${manifest}`,
    promoted_at: '2026-12-07T13:00:00.000Z',
    key_hint: 'k',
    statement_digest: digest('e'),
  };
}

describe.each(DIALECTS)('promoted notifications on $name', (dialect: StoreDialectFactory) => {
  beforeEach(() => {
    current = dialect;
  });

  it('announces each promotion once across servers, for the project whose job built it, and delivers it signed', async () => {
    const received: { headers: Record<string, string>; body: string }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString() });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
    const cfg = config(url);
    const location = await current.location();
    const a = await current.open(location);
    const b = await current.open(location);
    cleanups.push(async () => {
      await a.close();
      await b.close();
    });

    // A job of the farm built manifest F; a CLI build made manifest C (no job, so no configured project).
    await recordBuild(a, 'build-farm', digest('f'));
    await recordBuild(a, 'build-cli', digest('c'));
    const queue = storeQueue(a, { global: 1, perProject: 1 });
    const { id: jobId } = await queue.submit({ project: 'web', commit: 'c'.repeat(40), branch: 'main' });
    expect((await queue.lease('w1', {}, 60_000)).kind).toBe('leased');
    expect(await queue.complete(jobId, 'w1', 'succeeded', 'build-farm')).toBe(true);
    await recordPromotion(a, promotion('p-staging', digest('f'), 'staging'));
    await recordPromotion(a, promotion('p-cli', digest('c'), 'staging'));

    const now = new Date('2026-12-07T13:00:01.000Z');
    // Two PostgreSQL handles race as two servers would; two SQLite handles in one thread would only wait on each other
    // (the write lock's busy wait blocks the thread), so there the four calls share one handle and its queue.
    const handles = current.name === 'PostgreSQL' ? [a, b, a, b] : [a, a, a, a];
    const counts = await Promise.all(
      handles.map((store) => announcePromotions(store, { config: cfg, host: 'kiln.test', now })),
    );
    expect(counts.reduce((x, y) => x + y, 0)).toBe(2); // each promotion claimed by one of the four
    expect(await announcePromotions(b, { config: cfg, host: 'kiln.test', now })).toBe(0);
    const rows = await a.db.selectFrom('notifications').selectAll().execute();
    expect(rows).toHaveLength(1); // the promoted target only; the CLI build's promotion names no project
    const event = JSON.parse(rows[0]?.body ?? '{}');
    expect(event).toMatchObject({
      specversion: '1.0',
      type: 'dev.kiln.build.promoted',
      source: 'kiln://kiln.test/projects/web',
      subject: jobId,
      time: '2026-12-07T13:00:00.000Z',
      data: {
        jobId,
        project: 'web',
        status: 'succeeded',
        buildId: 'build-farm',
        artifacts: [{ name: 'app', digest: digest('a') }],
        promotion: {
          artifact: 'app',
          manifestDigest: digest('f'),
          environment: 'staging',
          from: `127.0.0.1:5000/web@${digest('f')}`,
          to: `127.0.0.1:5000/web-staging@${digest('f')}`,
          promotedAt: '2026-12-07T13:00:00.000Z',
          statementDigest: digest('e'),
        },
      },
    });

    // A later promotion of the same artifact is its own event, with its own stable id; the sender delivers both.
    await recordPromotion(b, promotion('p-prod', digest('f'), 'prod'));
    const sender = notificationSender({
      store: b,
      config: cfg,
      secrets,
      pollMs: 10,
      announce: () => announcePromotions(b, { config: cfg, host: 'kiln.test', now: new Date() }),
    });
    sender.start();
    cleanups.push(() => sender.stop());
    const delivered = async () => (await listDeliveries(b)).filter((d) => d.status === 'delivered').length;
    const deadline = Date.now() + 10_000;
    while ((await delivered()) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await sender.stop();
    const events = received.map((r) => JSON.parse(r.body));
    expect(events.map((e) => e.data.promotion.environment).sort()).toEqual(['prod', 'staging']);
    expect(new Set(events.map((e) => e.id)).size).toBe(2);
    expect(events.find((e) => e.data.promotion.environment === 'staging')?.id).toBe(event.id);
    for (const r of received) {
      verifyStandardSignature({ headers: r.headers, rawBody: Buffer.from(r.body), secret: SECRET, maxBodyBytes: 1e6 });
    }
    expect((await listDeliveries(b)).map((d) => [d.type, d.status])).toEqual([
      ['dev.kiln.build.promoted', 'delivered'],
      ['dev.kiln.build.promoted', 'delivered'],
    ]);
  });
});
