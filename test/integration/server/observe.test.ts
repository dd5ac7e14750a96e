// The observability endpoints of the API over a real store with a real build in it: /metrics (a read token, or a
// loopback client over a real socket), the alert log Alertmanager writes (POST /v1/alerts) and reads, and the
// runbooks every generated alert links to.
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createApi } from '../../../src/server/api.js';
import { harness } from '../../helpers/harness.js';
import { demoProject } from '../../helpers/project.js';
import { makeRepo } from '../../helpers/repo.js';
import { tempDir } from '../../helpers/tmp.js';

const repo = join(tempDir(), 'repo');
makeRepo(repo, demoProject());
const h = harness({ cwd: repo });
const bugs: unknown[] = [];
const app = createApi({ kiln: h.kiln, version: '9.9.9', onBug: (e) => bugs.push(e) });
let tokens: Record<'read' | 'trigger', string>;

beforeAll(async () => {
  await h.kiln.build({ projectPath: repo, runner: 'host', allowDirty: false });
  tokens = {
    read: (await h.kiln.createToken({ scope: 'read' })).token,
    trigger: (await h.kiln.createToken({ scope: 'trigger' })).token,
  };
});
afterAll(async () => {
  await h.kiln.close();
  expect(bugs).toEqual([]);
});

const auth = (token?: string): Record<string, string> => (token ? { Authorization: `Bearer ${token}` } : {});
const body = async (r: Response) => JSON.parse(await r.text());
const postAlerts = (payload: unknown, token = tokens.trigger) =>
  app.request('/v1/alerts', {
    method: 'POST',
    headers: { ...auth(token), 'Content-Type': 'application/json' },
    body: JSON.stringify(payload),
  });

/** An Alertmanager webhook body (version 4) with `alerts`. */
function webhook(alerts: Record<string, unknown>[]) {
  return { version: '4', groupKey: '{}:{project="demo"}', status: 'firing', receiver: 'kiln-alert-log', alerts };
}
const firing = (fingerprint: string, alertname: string) => ({
  status: 'firing',
  labels: { alertname, severity: 'page', project: 'demo', team: 'payments', pipeline: 'demo' },
  annotations: { summary: 'M1: builds fail', runbook_url: 'http://127.0.0.1:8080/runbooks/build-failures' },
  startsAt: '2026-12-08T10:00:00.000Z',
  endsAt: '0001-01-01T00:00:00Z',
  generatorURL: 'http://127.0.0.1:9090/graph',
  fingerprint,
});

describe('GET /metrics', () => {
  it('needs a read token from anywhere but loopback, and then counts the recorded build', async () => {
    expect((await app.request('/metrics')).status).toBe(401); // in process: no client address, so not loopback
    const r = await app.request('/metrics', { headers: auth(tokens.read) });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await r.text();
    expect(text).toMatch(
      /^kiln_builds_total\{project="demo",pipeline="demo",branch_class="main",team="",status="succeeded"\} 1$/m,
    );
    expect(text).toMatch(/^kiln_artifacts_signed_total\{project="demo",.*\} 1$/m);
  });

  it('answers a client on 127.0.0.1 without a token (Prometheus on the same machine)', async () => {
    const server = await new Promise<ReturnType<typeof serve>>((done) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => done(s));
    });
    try {
      const { port } = server.address() as AddressInfo;
      const r = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(r.status).toBe(200);
      expect(await r.text()).toContain('# TYPE kiln_build_duration_seconds histogram');
      expect((await fetch(`http://127.0.0.1:${port}/v1/alerts`)).status).toBe(401); // only /metrics is open to it
      // A request a proxy on this machine forwarded is not local: it needs the token.
      for (const header of [
        ['X-Forwarded-For', '203.0.113.9'],
        ['Forwarded', 'for=203.0.113.9'],
      ]) {
        expect((await fetch(`http://127.0.0.1:${port}/metrics`, { headers: [header] })).status).toBe(401);
      }
    } finally {
      await new Promise((done) => server.close(done));
    }
  });
});

describe('the alert log', () => {
  it('records what Alertmanager sends (trigger scope), lists it (read scope), and updates a firing when it resolves', async () => {
    expect((await postAlerts(webhook([firing('a1', 'KilnBuildFailuresFastBurn')]), tokens.read)).status).toBe(403);
    const sent = await postAlerts(
      webhook([firing('a1', 'KilnBuildFailuresFastBurn'), firing('b2', 'KilnBuildLatencyFastBurn')]),
    );
    expect([sent.status, await body(sent)]).toEqual([200, { received: 2 }]);
    // Alertmanager repeats a firing alert, then sends it resolved: still one row for that firing.
    await postAlerts(webhook([firing('a1', 'KilnBuildFailuresFastBurn')]));
    await postAlerts(
      webhook([
        { ...firing('a1', 'KilnBuildFailuresFastBurn'), status: 'resolved', endsAt: '2026-12-08T10:20:00.000Z' },
      ]),
    );
    const list = await body(await app.request('/v1/alerts', { headers: auth(tokens.read) }));
    const byPrint = Object.fromEntries(list.alerts.map((a: { fingerprint: string }) => [a.fingerprint, a]));
    expect(list.alerts).toHaveLength(2);
    expect(byPrint.a1).toMatchObject({
      status: 'resolved',
      alertname: 'KilnBuildFailuresFastBurn',
      severity: 'page',
      project: 'demo',
      team: 'payments',
      startsAt: '2026-12-08T10:00:00.000Z',
      endsAt: '2026-12-08T10:20:00.000Z',
      annotations: { runbook_url: 'http://127.0.0.1:8080/runbooks/build-failures' },
    });
    expect(byPrint.b2).toMatchObject({ status: 'firing', endsAt: null });
    const onlyFiring = await body(await app.request('/v1/alerts?status=firing', { headers: auth(tokens.read) }));
    expect(onlyFiring.alerts.map((a: { fingerprint: string }) => a.fingerprint)).toEqual(['b2']);
  });

  it('refuses a body that is not an Alertmanager webhook, and records nothing of it', async () => {
    for (const bad of [{}, { alerts: [{ status: 'firing' }] }, 'text']) {
      const r = await postAlerts(bad);
      expect(r.status).toBe(400);
      expect((await body(r)).error.code).toBe('KILN_BAD_REQUEST');
    }
    const list = await body(await app.request('/v1/alerts?limit=1000', { headers: auth(tokens.read) }));
    expect(list.alerts.every((a: { fingerprint: string }) => ['a1', 'b2'].includes(a.fingerprint))).toBe(true);
  });
});

describe('runbooks', () => {
  it('serves every runbook a generated alert links to, and nothing else', async () => {
    const rules = parse(await h.kiln.sloRules()) as {
      groups: { rules: { annotations?: { runbook_url: string } }[] }[];
    };
    const names = new Set(
      rules.groups.flatMap((g) =>
        g.rules.flatMap((r) => (r.annotations ? [r.annotations.runbook_url.split('/').pop()] : [])),
      ),
    );
    expect(names.size).toBeGreaterThanOrEqual(10);
    for (const name of names) {
      const r = await app.request(`/runbooks/${name}`);
      expect([name, r.status]).toEqual([name, 200]);
      expect(r.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
      expect(await r.text()).toMatch(/^# /);
    }
    for (const name of ['nope', '..%2F..%2Fpackage.json', 'README']) {
      expect([name, (await app.request(`/runbooks/${name}`)).status]).toEqual([name, 404]);
    }
  });
});
