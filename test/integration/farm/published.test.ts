// The `published` event: written in the transaction that records a job's success, once, from the recorded build.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseServerConfig } from '../../../src/config/index.js';
import { notificationOutbox } from '../../../src/farm/notify.js';
import { publishedEventId } from '../../../src/farm/published.js';
import { storeQueue } from '../../../src/farm/store-queue.js';
import { openSqliteStore, recordPublication, type Store } from '../../../src/store/index.js';
import { recordFarmBuild } from '../../helpers/store.js';
import { tempDir } from '../../helpers/tmp.js';

const COMMIT = 'c'.repeat(40);
const DIGEST = `sha256:${'d'.repeat(64)}`;
const MANIFEST = `sha256:${'e'.repeat(64)}`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fixture(events: string, options: { failOnSuccess?: { on: boolean } } = {}) {
  const config = parseServerConfig(
    `projects:
  - name: web
    repository: file:///srv/git/web
    notify:
      - { url: "https://deploy.example.test/kiln", secret: { env: S }, events: [${events}] }
      - { url: "https://audit.example.test/kiln", secret: { env: S }, events: [succeeded] }
`,
    join(tempDir(), 'kiln-server.yaml'),
  );
  const store: Store = await openSqliteStore(join(tempDir(), 'store.db'));
  cleanups.push(() => store.close());
  const outbox = notificationOutbox({
    config,
    host: 'kiln.test',
    artifactTarget: { name: 'the OCI layout /srv/kiln/oci', layoutDir: '/srv/kiln/oci' },
  });
  const queue = storeQueue(store, {
    global: 1,
    perProject: 1,
    onChange: async (db, job, at) => {
      await outbox(db, job, at);
      // Whatever fails after the outbox rows in the same transaction undoes them with the job's change.
      if (job.state === 'succeeded' && options.failOnSuccess?.on) throw new Error('the transaction fails here');
    },
  });
  return { store, queue };
}

async function recordBuild(store: Store, id: string, artifacts: number): Promise<void> {
  await recordFarmBuild(store, id, artifacts === 0 ? [] : [{ name: 'app', digest: DIGEST, manifest: MANIFEST }]);
  if (artifacts === 0) return;
  await recordPublication(store, {
    manifest_digest: MANIFEST,
    registry: 'registry.example.test',
    repository: 'team/app',
    build_id: id,
    artifact_name: 'app',
    published_at: '2026-12-07T12:01:01.000Z',
  });
}

const rowsOf = (store: Store, type: string) =>
  store.db.selectFrom('notifications').selectAll().where('type', '=', type).execute();

async function runToSuccess(queue: ReturnType<typeof storeQueue>, buildId: string) {
  const { id } = await queue.submit({ project: 'web', commit: COMMIT, branch: 'main' });
  expect((await queue.lease('w1', {}, 60_000)).kind).toBe('leased');
  return { id, complete: () => queue.complete(id, 'w1', 'succeeded', buildId) };
}

describe('the published event', () => {
  it('is written once, with the success, carrying each artifact, its digests and where it is', async () => {
    const { store, queue } = await fixture('published');
    await recordBuild(store, 'build-1', 1);
    const job = await runToSuccess(queue, 'build-1');
    expect(await rowsOf(store, 'dev.kiln.build.published')).toEqual([]); // nothing before the job ends
    expect(await job.complete()).toBe(true);
    expect(await job.complete()).toBe(false); // a second report changes nothing, and writes nothing
    await queue.reap(new Date(Date.now() + 3_600_000));

    const rows = await rowsOf(store, 'dev.kiln.build.published');
    expect(rows.map((r) => [r.url, r.kind, r.status])).toEqual([
      ['https://deploy.example.test/kiln', 'cloudevent', 'pending'],
    ]);
    const event = JSON.parse(rows[0]?.body ?? '{}');
    expect(event).toEqual({
      specversion: '1.0',
      id: publishedEventId(job.id),
      source: 'kiln://kiln.test/projects/web',
      type: 'dev.kiln.build.published',
      subject: job.id,
      time: expect.any(String),
      datacontenttype: 'application/json',
      data: {
        jobId: job.id,
        project: 'web',
        commit: COMMIT,
        branch: 'main',
        status: 'succeeded',
        attempt: 1,
        buildId: 'build-1',
        artifacts: [
          {
            name: 'app',
            digest: DIGEST,
            manifestDigest: MANIFEST,
            locations: [
              { kind: 'oci-layout', layout: '/srv/kiln/oci', ref: `/srv/kiln/oci@${MANIFEST}` },
              {
                kind: 'registry',
                registry: 'registry.example.test',
                repository: 'team/app',
                ref: `registry.example.test/team/app@${MANIFEST}`,
              },
            ],
          },
        ],
      },
    });
    expect(rows[0]?.event_id).toBe(event.id);
    // The succeeded event goes to the target subscribed to it, with the digests as before; a separate event id.
    const succeeded = await rowsOf(store, 'dev.kiln.build.succeeded');
    expect(succeeded.map((r) => r.url)).toEqual(['https://audit.example.test/kiln']);
    expect(JSON.parse(succeeded[0]?.body ?? '{}').data.artifacts).toEqual([{ name: 'app', digest: DIGEST }]);
    expect(succeeded[0]?.event_id).not.toBe(event.id);
  });

  it('commits with the job change or not at all', async () => {
    const failOnSuccess = { on: true };
    const { store, queue } = await fixture('published', { failOnSuccess });
    await recordBuild(store, 'build-1', 1);
    const job = await runToSuccess(queue, 'build-1');
    await expect(job.complete()).rejects.toThrow('the transaction fails here');
    expect((await queue.get(job.id))?.state).toBe('running');
    expect(await rowsOf(store, 'dev.kiln.build.published')).toEqual([]);
    failOnSuccess.on = false;
    expect(await job.complete()).toBe(true);
    expect(await rowsOf(store, 'dev.kiln.build.published')).toHaveLength(1);
  });

  it('is not written for a build without artifacts, a job that did not succeed, or a target not subscribed', async () => {
    const { store, queue } = await fixture('published, failed');
    await recordBuild(store, 'empty', 0);
    await (await runToSuccess(queue, 'empty')).complete();
    await recordBuild(store, 'build-2', 1);
    const { id } = await queue.submit({ project: 'web', commit: COMMIT, branch: 'main', force: true });
    await queue.lease('w1', {}, 60_000);
    await queue.complete(id, 'w1', 'failed', 'build-2');
    expect(await rowsOf(store, 'dev.kiln.build.published')).toEqual([]);
    expect(await rowsOf(store, 'dev.kiln.build.failed')).toHaveLength(1);

    const other = await fixture('succeeded');
    await recordBuild(other.store, 'build-1', 1);
    await (await runToSuccess(other.queue, 'build-1')).complete();
    expect(await rowsOf(other.store, 'dev.kiln.build.published')).toEqual([]);
  });
});
