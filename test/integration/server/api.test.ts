// The HTTP API in process (Hono's app.request()), over a real store with a real build recorded in it.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../../src/server/api.js';
import { openApiDocument } from '../../../src/server/openapi.js';
import { harness } from '../../helpers/harness.js';
import { demoProject } from '../../helpers/project.js';
import { makeRepo } from '../../helpers/repo.js';
import { tempDir } from '../../helpers/tmp.js';

const repo = join(tempDir(), 'repo');
makeRepo(repo, demoProject());
const h = harness({ cwd: repo });
const bugs: unknown[] = [];
const app = createApi({ kiln: h.kiln, version: '9.9.9', onBug: (e) => bugs.push(e) });
let buildId = '';
let tokens: Record<'read' | 'trigger', string>;

beforeAll(async () => {
  const built = await h.kiln.build({ projectPath: repo, runner: 'host', allowDirty: false });
  buildId = built.buildId;
  tokens = {
    read: (await h.kiln.createToken({ scope: 'read' })).token,
    trigger: (await h.kiln.createToken({ scope: 'trigger' })).token,
  };
});
afterAll(async () => {
  await h.kiln.close();
  expect(bugs).toEqual([]);
});

const get = (path: string, token?: string) =>
  app.request(path, token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } });
/** The body of an answer, parsed (typed as JSON.parse types it). */
const body = async (r: Response) => JSON.parse(await r.text());

describe('the HTTP API', () => {
  it('answers /healthz and the OpenAPI document without a token', async () => {
    const health = await get('/healthz');
    expect([health.status, await body(health)]).toEqual([200, { status: 'ok', version: '9.9.9' }]);
    const doc = await body(await get('/v1/openapi.json'));
    expect(doc).toEqual(JSON.parse(JSON.stringify(openApiDocument('9.9.9'))));
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual([
      '/healthz',
      '/v1/openapi.json',
      '/v1/builds',
      '/v1/builds/{id}',
      '/v1/builds/{id}/logs',
      '/v1/builds/{id}/cancel',
      '/metrics',
      '/v1/alerts',
      '/runbooks/{name}',
      '/v1/queue',
      '/v1/workers',
      '/v1/deliveries',
      '/v1/webhooks/github',
      '/v1/webhooks/gitlab',
      '/v1/webhooks/standard',
    ]);
    // Every schema an answer refers to is in the document.
    const refs = [...JSON.stringify(doc).matchAll(/"#\/components\/schemas\/(\w+)"/g)].map((m) => m[1]);
    for (const name of new Set(refs)) expect(doc.components.schemas[name as string], name).toBeDefined();
    expect(doc.components.schemas.Build.properties.status).toEqual({ $ref: '#/components/schemas/BuildStatus' });
    // The log stream's events are documented with the schemas of their data.
    const logs = doc.paths['/v1/builds/{id}/logs'].get;
    expect(Object.keys(logs.responses['200'].content)).toEqual(['text/event-stream']);
    expect(logs.responses['200']['x-events']).toEqual({
      log: { $ref: '#/components/schemas/LogLine' },
      end: { $ref: '#/components/schemas/LogEnd' },
      error: { $ref: '#/components/schemas/Error' },
    });
    expect(Object.keys(doc.components.schemas.LogLine.properties)).toEqual(['attempt', 'step', 'stream', 'text', 'at']);
  });

  it('refuses /v1/builds without a token (401), with an unknown one (401), and names the code', async () => {
    for (const token of [undefined, 'kiln_nope']) {
      const r = await get('/v1/builds', token);
      expect(r.status).toBe(401);
      expect((await body(r)).error.code).toBe('KILN_UNAUTHENTICATED');
    }
    expect((await get(`/v1/builds/${buildId}`)).status).toBe(401);
  });

  it('lists builds and shows one, with its artifacts and digests, in the documented shape', async () => {
    const list = await body(await get('/v1/builds?project=demo&limit=5', tokens.read));
    expect(list.builds.map((b: { id: string }) => b.id)).toEqual([buildId]);
    const detail = await body(await get(`/v1/builds/${buildId}`, tokens.trigger));
    expect(detail).toMatchObject({ id: buildId, project: 'demo', status: 'succeeded', dirty: false, exitCode: 0 });
    expect(detail.flakySteps).toBe(0);
    type Shown = { name: string; status: string; attempts: number; flaky: boolean };
    expect(detail.steps.map((s: Shown) => [s.name, s.status, s.attempts, s.flaky])).toEqual([
      ['compile', 'succeeded', 1, false],
      ['test', 'succeeded', 1, false],
    ]);
    expect(detail.artifacts).toEqual([
      {
        name: 'demo',
        digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        manifestDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        size: expect.any(Number),
      },
    ]);
    const documented = openApiDocument('x').components as { schemas: { BuildDetail: { properties: object } } };
    expect(Object.keys(detail).sort()).toEqual(Object.keys(documented.schemas.BuildDetail.properties).sort());
  });

  it('answers 404 for an unknown build, a prefix of an id and an unknown route; 400 for a bad query', async () => {
    for (const path of ['/v1/builds/20200101T000000.000Z-0000000000000000', `/v1/builds/${buildId.slice(0, 10)}`]) {
      const r = await get(path, tokens.read);
      expect([r.status, (await body(r)).error.code]).toEqual([404, 'KILN_NOT_FOUND']);
    }
    expect((await get('/v2/anything', tokens.read)).status).toBe(404);
    const bad = await get('/v1/builds?limit=0', tokens.read);
    expect([bad.status, (await body(bad)).error]).toEqual([
      400,
      expect.objectContaining({ code: 'KILN_BAD_REQUEST', message: expect.stringContaining('limit') }),
    ]);
  });

  it('answers a submission to a server without kiln-server.yaml with a hint, and a bad body with 400', async () => {
    const post = (payload: string, token: string) =>
      app.request('/v1/builds', { method: 'POST', body: payload, headers: { Authorization: `Bearer ${token}` } });
    const reader = await post(JSON.stringify({ project: 'demo', ref: 'main' }), tokens.read);
    expect(reader.status).toBe(403);
    const none = await body(await post(JSON.stringify({ project: 'demo', ref: 'main' }), tokens.trigger));
    expect(none.error).toMatchObject({ code: 'KILN_USAGE', hint: expect.stringContaining('kiln serve --config') });
    for (const payload of ['not json', '{"project": "demo"}', '{"project": 1, "ref": "main"}']) {
      const r = await post(payload, tokens.trigger);
      expect([r.status, (await body(r)).error.code]).toEqual([400, 'KILN_BAD_REQUEST']);
    }
    for (const path of ['/v1/queue', '/v1/workers', '/v1/deliveries']) {
      expect((await get(path, tokens.read)).status).toBe(400);
    }
  });

  it('lists the deliveries of notifications with a read token, passing the query on', async () => {
    const asked: unknown[] = [];
    const delivery = {
      id: 'd-1',
      eventId: 'e-1',
      kind: 'cloudevent' as const,
      type: 'dev.kiln.build.failed',
      project: 'demo',
      job: 'j-1',
      url: 'https://hooks.example.test/kiln',
      status: 'failed' as const,
      attempts: 10,
      lastStatus: 500,
      lastError: 'HTTP 500 Internal Server Error',
      createdAt: '2026-12-07T12:00:00.000Z',
      lastAttemptAt: '2026-12-07T12:30:00.000Z',
      nextAttemptAt: null,
      deliveredAt: null,
    };
    const unused = () => Promise.reject(new Error('not used'));
    const withService = createApi({
      kiln: h.kiln,
      version: '9.9.9',
      onBug: (e) => bugs.push(e),
      service: {
        submit: unused,
        job: async () => undefined,
        cancel: unused,
        queue: unused,
        workers: async () => [],
        deliveries: async (query) => {
          asked.push(query);
          return [delivery];
        },
      },
    });
    const auth = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });
    expect((await withService.request('/v1/deliveries')).status).toBe(401);
    const ok = await withService.request('/v1/deliveries?status=failed&limit=5', auth(tokens.read));
    expect([ok.status, await body(ok)]).toEqual([200, { deliveries: [delivery] }]);
    expect(asked).toEqual([{ status: 'failed', limit: 5 }]);
    const bad = await withService.request('/v1/deliveries?status=lost', auth(tokens.read));
    expect([bad.status, (await body(bad)).error.code]).toEqual([400, 'KILN_BAD_REQUEST']);
  });
});
