// GET /v1/builds/{id}/logs in process (Hono's app.request()), over the real queue, store and log writer: the lines
// of a job as Server-Sent Events, then its end; a step filter; resuming after Last-Event-ID; live lines while the job
// runs; 404, 400 and the token's scope.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiService } from '../../../src/cli/serve.js';
import type { TimedEvent } from '../../../src/core/events.js';
import { attemptLog, jobLogLines } from '../../../src/farm/logs.js';
import { buildService } from '../../../src/farm/service.js';
import { storeQueue } from '../../../src/farm/store-queue.js';
import type { ApiService } from '../../../src/server/api.js';
import { createApi } from '../../../src/server/api.js';
import type { Store } from '../../../src/store/index.js';
import { harness } from '../../helpers/harness.js';
import { fileTempDir } from '../../helpers/tmp.js';

const root = fileTempDir();
// A home for the whole file (a test's own temp dirs are removed after it).
const h = harness({ cwd: root, home: fileTempDir('kiln-home-') });
const bugs: unknown[] = [];
let app: ReturnType<typeof createApi>;
/** The same service, but its log streams look only once a minute: an end seen sooner was announced, not polled. */
let slowApp: ReturnType<typeof createApi>;
let service: ReturnType<typeof buildService>;
let queue: ReturnType<typeof storeQueue>;
let store: Store;
let tokens: Record<'read' | 'none', string>;
/** How many times the API read lines from the store. */
let reads = 0;

beforeAll(async () => {
  const file = join(root, 'kiln-server.yaml');
  writeFileSync(file, 'projects:\n  - name: demo\n    repository: https://git.example.test/demo.git\n');
  const config = await h.kiln.loadServerConfig(file);
  store = await h.ports.store();
  queue = storeQueue(store, { global: 10, perProject: 10 });
  const secrets = { env: {}, readFile: async () => '' };
  service = buildService({
    kiln: h.kiln,
    queue,
    store,
    version: 'test',
    config,
    secrets,
    deliveryDir: join(root, 'out'),
  });
  const logs: ApiService['logs'] = (id, query) => {
    reads++;
    return jobLogLines(store, id, query);
  };
  app = createApi({
    kiln: h.kiln,
    version: '9.9.9',
    service: apiService(service, undefined, logs),
    onBug: (e) => bugs.push(e),
    logPollMs: 20,
  });
  slowApp = createApi({
    kiln: h.kiln,
    version: '9.9.9',
    service: apiService(service, undefined, logs),
    logPollMs: 60_000,
  });
  tokens = {
    read: (await h.kiln.createToken({ scope: 'read' })).token,
    none: 'kiln_not_a_token',
  };
});
afterAll(async () => {
  await store.close();
  await h.kiln.close();
  expect(bugs).toEqual([]);
});

const AT = '2026-12-07T12:00:00.000Z';
const out = (step: string, line: string, stream: 'stdout' | 'stderr' = 'stdout'): TimedEvent => ({
  kind: 'step-output',
  step,
  stream,
  line,
  at: AT,
});

/** A job leased by a worker (running, attempt 1), with its attempt's log writer. */
async function runningJob() {
  const { id } = await queue.submit({ project: 'demo', commit: `c${Math.random()}`, force: true });
  const lease = await queue.lease('w-test', {}, 60_000);
  if (lease.kind !== 'leased' || lease.job.id !== id) throw new Error('the job was not leased');
  const log = attemptLog({ store, jobId: id, attempt: lease.job.attempt, flushMs: 5 });
  return { id, log, end: (outcome: 'succeeded' | 'failed') => queue.complete(id, 'w-test', outcome) };
}

const logs = (id: string, opts: { token?: string; query?: string; lastEventId?: string } = {}) =>
  app.request(`/v1/builds/${id}/logs${opts.query ?? ''}`, {
    headers: {
      ...(opts.token === undefined ? {} : { Authorization: `Bearer ${opts.token}` }),
      ...(opts.lastEventId === undefined ? {} : { 'Last-Event-ID': opts.lastEventId }),
    },
  });

describe('GET /v1/builds/{id}/logs', () => {
  it("sends an ended job's lines as `log` events with attempt:seq ids, then `end` with its status", async () => {
    const job = await runningJob();
    job.log.listener(out('compile', 'building'));
    job.log.listener(out('compile', 'warning: x', 'stderr'));
    job.log.listener({ kind: 'step-started', step: 'test', at: AT });
    job.log.listener(out('test', 'line\twith "quotes"'));
    await job.log.flush();
    await job.end('failed');
    const r = await logs(job.id, { token: tokens.read });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const data = (step: string | null, stream: string, text: string) =>
      JSON.stringify({ attempt: 1, step, stream, text, at: AT });
    expect(await r.text()).toBe(
      [
        `event: log\ndata: ${data('compile', 'stdout', 'building')}\nid: 1:1\n\n`,
        `event: log\ndata: ${data('compile', 'stderr', 'warning: x')}\nid: 1:2\n\n`,
        `event: log\ndata: ${data('test', 'kiln', 'step test started')}\nid: 1:3\n\n`,
        `event: log\ndata: ${data('test', 'stdout', 'line\twith "quotes"')}\nid: 1:4\n\n`,
        'event: end\ndata: {"status":"failed"}\n\n',
      ].join(''),
    );
    // ?step= keeps that step's lines; Last-Event-ID resumes after a line (then the end, which has no id).
    const only = await (await logs(job.id, { token: tokens.read, query: '?step=test' })).text();
    expect(only.match(/^id: .+$/gm)).toEqual(['id: 1:3', 'id: 1:4']);
    const resumed = await (await logs(job.id, { token: tokens.read, lastEventId: '1:3' })).text();
    expect(resumed.match(/^(id|event): .+$/gm)).toEqual(['event: log', 'id: 1:4', 'event: end']);
    const both = await (await logs(job.id, { token: tokens.read, query: '?step=compile', lastEventId: '1:1' })).text();
    expect(both.match(/^id: .+$/gm)).toEqual(['id: 1:2']);
  });

  it('streams lines live while the job runs, and ends once it ended', async () => {
    const job = await runningJob();
    job.log.listener(out('compile', 'first'));
    const r = await logs(job.id, { token: tokens.read });
    const reader = (r.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const silent = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`nothing matched ${pattern} in 10 s: ${text}`)), 10_000);
        });
        const { done, value } = await Promise.race([reader.read(), silent]).finally(() => clearTimeout(timer));
        if (done) throw new Error(`the stream ended before ${pattern}: ${text}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    await readUntil(/"text":"first"/); // sent while the job runs: the writer's timer wrote it, nothing ended
    expect((await queue.get(job.id))?.state).toBe('running');
    expect(text).not.toContain('event: end');
    job.log.listener(out('compile', 'second'));
    await readUntil(/"text":"second"/);
    await job.log.flush();
    await job.end('succeeded');
    await readUntil(/event: end\ndata: \{"status":"succeeded"\}\n\n$/);
    expect(text.match(/^id: .+$/gm)).toEqual(['id: 1:1', 'id: 1:2']);
    expect((await reader.read()).done).toBe(true);
  });

  it('ends at once when a job ends in this process, without waiting for its next look', async () => {
    const job = await runningJob();
    const before = reads;
    const r = await slowApp.request(`/v1/builds/${job.id}/logs`, {
      headers: { Authorization: `Bearer ${tokens.read}` },
    });
    const body = r.text();
    while (reads === before) await new Promise((resolve) => setTimeout(resolve, 5)); // it looked once, and waits
    const started = Date.now();
    expect(await service.cancel(job.id)).toBe(true);
    expect(await body).toMatch(/event: end\ndata: \{"status":"cancelled"\}\n\n$/);
    expect(Date.now() - started).toBeLessThan(10_000); // not the minute between looks
  });

  it('stops reading the store once the client went away', async () => {
    const job = await runningJob();
    const r = await logs(job.id, { token: tokens.read });
    const reader = (r.body as ReadableStream<Uint8Array>).getReader();
    const before = reads;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(reads).toBeGreaterThan(before); // polling (every 20 ms here) while the job runs
    await reader.cancel();
    await new Promise((resolve) => setTimeout(resolve, 60));
    const after = reads;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(reads).toBe(after);
    await job.end('succeeded');
  });

  it('answers 404 for an unknown job, 400 for a malformed Last-Event-ID, 401 without a token', async () => {
    const unknown = await logs('no-such-job', { token: tokens.read });
    expect([unknown.status, JSON.parse(await unknown.text()).error.code]).toEqual([404, 'KILN_NOT_FOUND']);
    const job = await runningJob();
    await job.end('succeeded');
    for (const lastEventId of ['7', '1:x', '1:2:3']) {
      const bad = await logs(job.id, { token: tokens.read, lastEventId });
      expect([bad.status, JSON.parse(await bad.text()).error.code]).toEqual([400, 'KILN_BAD_REQUEST']);
    }
    for (const token of [undefined, tokens.none]) {
      const r = await logs(job.id, token === undefined ? {} : { token });
      expect([r.status, JSON.parse(await r.text()).error.code]).toEqual([401, 'KILN_UNAUTHENTICATED']);
    }
  });

  it('answers a server without kiln-server.yaml with the usage hint, as the other job routes do', async () => {
    const bare = createApi({ kiln: h.kiln, version: '9.9.9', onBug: (e) => bugs.push(e) });
    const r = await bare.request('/v1/builds/any/logs', { headers: { Authorization: `Bearer ${tokens.read}` } });
    expect([r.status, JSON.parse(await r.text()).error.code]).toEqual([400, 'KILN_USAGE']);
  });
});
