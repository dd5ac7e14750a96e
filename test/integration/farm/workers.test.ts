// The farm's shared state in a real store: workers' reports (and who counts as gone or stopped), the kiln-server.yaml
// a server publishes for its workers, and a job's source as a worker reads it back.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishConfig, publishedConfig, queueRulesOf } from '../../../src/farm/farm-config.js';
import type { Job } from '../../../src/farm/job.js';
import { jobPayload, jobSourceOf, listWorkers } from '../../../src/farm/worker.js';
import { openSqliteStore, pruneHistory, reportWorker, type Store } from '../../../src/store/index.js';
import { tempDir } from '../../helpers/tmp.js';

let store: Store;
beforeAll(async () => {
  store = await openSqliteStore(join(tempDir(), 'store.db'));
});
afterAll(() => store.close());

const report = (id: string, at: string, state = 'idle') =>
  reportWorker(store, {
    id,
    host: 'build-1',
    labels: '{"arch":"x64"}',
    kiln_version: '0.1.0',
    started_at: '2026-12-07T10:00:00.000Z',
    heartbeat_at: at,
    state,
    job_id: state === 'building' ? 'job-1' : null,
    health: '{"workFreeBytes":1000,"memTotalBytes":8}',
  });

describe('worker reports', () => {
  it('keeps the last report of each worker, and calls one silent for three intervals gone', async () => {
    await report('w-a', '2026-12-07T10:00:00.000Z', 'building');
    await report('w-a', '2026-12-07T10:00:50.000Z', 'building'); // replaces the first
    await report('w-b', '2026-12-07T10:00:10.000Z', 'idle');
    await report('w-c', '2026-12-07T10:00:00.000Z', 'stopped');
    await report('w-old', '2026-12-07T08:00:00.000Z', 'idle');
    const now = new Date('2026-12-07T10:01:00.000Z');
    const workers = await listWorkers(store, now, 10_000);
    expect(workers.map((w) => [w.id, w.state, w.job, w.heartbeatAgeMs])).toEqual([
      ['w-a', 'building', 'job-1', 10_000],
      ['w-b', 'gone', null, 50_000], // silent for more than 3 × 10 s
      ['w-c', 'stopped', null, 60_000], // said it stopped: not gone
    ]); // w-old reported more than an hour ago
    expect(workers[0]).toMatchObject({ host: 'build-1', labels: { arch: 'x64' }, health: { workFreeBytes: 1000 } });
    expect((await pruneHistory(store, '2026-12-07T09:00:00.000Z')).workers).toBe(1); // w-old only
  });
});

describe('the published kiln-server.yaml', () => {
  it('is refused with a hint until a server publishes it, then read back validated', async () => {
    await expect(publishedConfig(store)).rejects.toMatchObject({
      code: 'KILN_NOT_FOUND',
      hint: expect.stringContaining('kiln serve --config'),
    });
    const dir = tempDir();
    const file = join(dir, 'kiln-server.yaml');
    const text = [
      'concurrency: 3',
      'leaseSeconds: 7',
      'classes: [high, normal]',
      'projects:',
      '  - { name: app, repository: "https://git.example/app.git", concurrency: 2, credentials: { username: bot, password: { file: pw } } }',
      '',
    ].join('\n');
    writeFileSync(file, text);
    await publishConfig(store, text, file, new Date('2026-12-07T10:00:00Z'));
    const config = await publishedConfig(store);
    expect(config.publishedAt).toBe('2026-12-07T10:00:00.000Z');
    expect(config.leaseMs).toBe(7_000);
    expect(queueRulesOf(config)).toEqual({
      classes: ['high', 'normal'],
      global: 3,
      perProject: 1,
      projects: { app: 2 },
    });
    // Relative secret files resolve against the published file's directory, as on the server.
    expect(config.projects[0]?.credentials?.password).toMatchObject({ kind: 'file', file: join(dir, 'pw') });
    await publishConfig(store, 'concurrency: nope\n', file, new Date());
    await expect(publishedConfig(store)).rejects.toMatchObject({
      code: 'KILN_CONFIG_INVALID',
      message: expect.stringContaining('the kiln-server.yaml published in the store is not valid here'),
    });
  });
});

describe('a job source', () => {
  it('travels in the payload with secret references, never secrets, and a payload without one is refused', async () => {
    const dir = tempDir();
    const file = join(dir, 'kiln-server.yaml');
    const text =
      'projects:\n  - { name: app, repository: "https://git.example/app.git", path: web, credentials: { username: bot, password: { env: GIT_PW } } }\n';
    await publishConfig(store, text, file, new Date());
    const [project] = (await publishedConfig(store)).projects;
    if (!project) throw new Error('the published file has its project');
    const payload = jobPayload(project, 'main');
    expect(JSON.parse(JSON.stringify(payload))).toEqual({
      ref: 'main',
      source: {
        repository: 'https://git.example/app.git',
        path: 'web',
        credentials: { username: 'bot', password: expect.objectContaining({ kind: 'env', env: 'GIT_PW' }) },
      },
    });
    const job = (p: Record<string, unknown>) => ({ id: 'j1', project: 'app', payload: p }) as unknown as Job;
    expect(jobSourceOf(job(JSON.parse(JSON.stringify(payload))))).toMatchObject({
      repository: 'https://git.example/app.git',
    });
    expect(() => jobSourceOf(job({ ref: 'main' }))).toThrow(/does not say where its source is/);
    const badSecret = { source: { repository: 'x', path: '.', credentials: { username: 'bot', password: 'hunter2' } } };
    expect(() => jobSourceOf(job(badSecret))).toThrow(/does not say where its source is/);
  });
});
