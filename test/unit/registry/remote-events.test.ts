// The registry client tells of every HTTP exchange it makes (token requests and retries included) as a
// registry-request event: what a metric of registry requests and errors by status counts.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { KilnEvent } from '../../../src/core/events.js';
import { createRegistryClient } from '../../../src/registry/remote/index.js';

type Answer = Response | Error;

/** A fetch that answers from a script, one entry per call, and records the URLs it was asked for. */
function scripted(answers: Answer[]) {
  const asked: string[] = [];
  const fetch = (async (url: string | URL | Request) => {
    asked.push(String(url));
    const next = answers.shift();
    if (next === undefined) throw new Error(`unexpected request to ${String(url)}`);
    if (next instanceof Error) throw next;
    return next;
  }) as typeof globalThis.fetch;
  return { fetch, asked };
}

function client(answers: Answer[]) {
  const events: Extract<KilnEvent, { kind: 'registry-request' }>[] = [];
  const { fetch, asked } = scripted(answers);
  const c = createRegistryClient({
    registry: '127.0.0.1:5999',
    credentials: { kind: 'anonymous' },
    fetch,
    sleep: async () => {},
    onEvent: (e) => {
      if (e.kind === 'registry-request') events.push(e);
    },
  });
  return { c, events, asked };
}

const MANIFEST = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  layers: [],
});
const ok = () =>
  new Response(MANIFEST, { status: 200, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
const refused = () =>
  new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });

describe('registry-request events', () => {
  it('reports the refused request, the token request and the retried one, each with its status and bytes', async () => {
    const challenge = new Response('', {
      status: 401,
      headers: { 'www-authenticate': 'Bearer realm="http://127.0.0.1:5998/token",service="reg"' },
    });
    const token = new Response(JSON.stringify({ token: 't0k' }), { status: 200 });
    const { c, events } = client([challenge, token, ok()]);
    expect(await c.getManifest('team/app', 'v1')).toBeDefined();
    expect(events.map((e) => [e.registry, e.method, e.path, e.status, e.attempt])).toEqual([
      ['127.0.0.1:5999', 'GET', '/v2/team/app/manifests/v1', 401, 1],
      ['127.0.0.1:5998', 'GET', '/token', 200, 1],
      ['127.0.0.1:5999', 'GET', '/v2/team/app/manifests/v1', 200, 1],
    ]);
    expect(events[1]?.bytes).toBe(JSON.stringify({ token: 't0k' }).length);
    expect(events[2]?.bytes).toBe(MANIFEST.length);
    for (const e of events) expect(e.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('numbers retries, and has no status when no answer came', async () => {
    const { c, events } = client([refused(), new Response('busy', { status: 503 }), ok()]);
    expect(await c.getManifest('team/app', 'v1')).toBeDefined();
    expect(events.map((e) => [e.status, e.attempt])).toEqual([
      [null, 1],
      [503, 2],
      [200, 3],
    ]);
  });

  it('counts what a request sends', async () => {
    const upload = new Response('', {
      status: 202,
      headers: { location: 'http://127.0.0.1:5999/v2/team/app/blobs/uploads/u1?x=1' },
    });
    const head = new Response(null, { status: 404 });
    const { c, events } = client([head, upload, new Response('', { status: 201 })]);
    const bytes = Buffer.from('hello blob');
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}` as const;
    await c.putBlob('team/app', { digest, size: bytes.length, source: bytes });
    expect(events.map((e) => [e.method, e.status])).toEqual([
      ['HEAD', 404],
      ['POST', 202],
      ['PUT', 201],
    ]);
    expect(events[2]).toMatchObject({ path: '/v2/team/app/blobs/uploads/u1', bytes: bytes.length });
  });

  it('reports each redirect hop as its own exchange', async () => {
    const moved = new Response(null, { status: 307, headers: { location: 'http://127.0.0.1:5997/blobs/b1' } });
    const blob = Buffer.from('blob bytes');
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}` as const;
    const { c, events } = client([moved, new Response(blob, { status: 200 })]);
    expect(await c.getBlob('team/app', digest)).toEqual(blob);
    expect(events.map((e) => [e.registry, e.path, e.status, e.bytes])).toEqual([
      ['127.0.0.1:5999', `/v2/team/app/blobs/${digest}`, 307, 0],
      ['127.0.0.1:5997', '/blobs/b1', 200, blob.length],
    ]);
  });
});
