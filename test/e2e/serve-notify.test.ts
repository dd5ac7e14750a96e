// `kiln serve` as a real process announcing a build downstream: the `published` event to a receiver, and the commit
// statuses to a stub of GitHub's statuses API, both on 127.0.0.1.
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpStub, until } from '../helpers/http-stub.js';
import { demoProject } from '../helpers/project.js';
import { kiln, makeRepo } from '../helpers/repo.js';
import { type Body, callApi, startServe, stopServers } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

afterEach(stopServers);

const TOKEN = 'ghp_e2e_token_0123456789abcdef';

const call = async (url: string, token: string, body?: unknown): Promise<Body> =>
  (await callApi(url, token, body)).json;

describe('kiln serve --config: published event and GitHub commit statuses', () => {
  it('tells a receiver where the artifacts went, and GitHub pending then success', async () => {
    const receiver = await startHttpStub(() => ({ status: 204 }));
    const github = await startHttpStub(() => ({ status: 201, body: '{"id":1}' }));
    try {
      const root = tempDir();
      const repo = join(root, 'repo');
      const home = join(root, 'home');
      const commit = makeRepo(repo, demoProject());
      writeFileSync(join(root, 'notify-secret'), 'a plain secret\n');
      const config = join(root, 'kiln-server.yaml');
      writeFileSync(
        config,
        `projects:\n  - name: demo\n    repository: file://${repo}\n    notify:\n` +
          `      - { url: "${receiver.url}/hook", secret: { file: notify-secret }, events: [published] }\n` +
          `    statuses:\n      github: { token: { env: GH_TOKEN }, api: "${github.url}/api/v3", repository: acme/demo }\n`,
      );
      const trigger = kiln(['tokens', 'create', '--scope', 'trigger'], { cwd: root, home }).stdout.trim();
      const read = kiln(['tokens', 'create', '--scope', 'read'], { cwd: root, home }).stdout.trim();
      const { url, output } = await startServe(home, ['--config', config], { GH_TOKEN: TOKEN });

      const { id } = await call(`${url}/v1/builds`, trigger, { project: 'demo', ref: 'main' });
      let done: Body;
      await until(
        'the job to end',
        async () => {
          done = await call(`${url}/v1/builds/${id}`, read);
          return !['queued', 'running'].includes(done.status);
        },
        120_000,
      );
      expect(done.status).toBe('succeeded');
      await until(
        'the event and the success',
        () => receiver.received.length === 1 && github.received.length >= 1,
        20_000,
      );
      await until('every delivery settled', async () =>
        (await call(`${url}/v1/deliveries`, read)).deliveries.every((d: Body) => d.status !== 'pending'),
      );

      const [event] = receiver.received;
      const published = JSON.parse(event?.body ?? '{}');
      const artifact = done.artifacts[0];
      expect(published).toMatchObject({
        specversion: '1.0',
        type: 'dev.kiln.build.published',
        subject: id,
        data: { jobId: id, commit, status: 'succeeded', buildId: done.build.id },
      });
      expect(published.data.artifacts).toEqual([
        {
          name: 'demo',
          digest: artifact.digest,
          manifestDigest: artifact.manifestDigest,
          locations: [
            { kind: 'oci-layout', layout: join(home, 'oci'), ref: `${join(home, 'oci')}@${artifact.manifestDigest}` },
          ],
        },
      ]);
      const h = event?.headers as Record<string, string>;
      const mac = createHmac('sha256', 'a plain secret')
        .update(`${h['webhook-id']}.${h['webhook-timestamp']}.${event?.body}`)
        .digest('base64');
      expect(h['webhook-signature']).toBe(`v1,${mac}`);

      // Each status GitHub got is the documented request; the last one (what the commit shows) is success.
      for (const r of github.received) {
        expect(r).toMatchObject({ method: 'POST', path: `/api/v3/repos/acme/demo/statuses/${commit}` });
        expect(r.headers).toMatchObject({
          accept: 'application/vnd.github+json',
          authorization: `Bearer ${TOKEN}`,
          'x-github-api-version': '2022-11-28',
          'user-agent': expect.stringMatching(/^kiln\//),
        });
      }
      const states = github.received.map((r) => JSON.parse(r.body));
      expect(states.at(-1)).toEqual({ state: 'success', description: 'Built 1 artifact', context: 'kiln' });
      expect(states.slice(0, -1).every((s) => s.state === 'pending')).toBe(true);
      const deliveries = (await call(`${url}/v1/deliveries`, read)).deliveries as Body[];
      expect(deliveries.filter((d) => d.kind === 'cloudevent').map((d) => [d.type, d.status])).toEqual([
        ['dev.kiln.build.published', 'delivered'],
      ]);
      expect(deliveries.filter((d) => d.kind === 'github-status').map((d) => d.type)).toEqual([
        'dev.kiln.build.succeeded',
        'dev.kiln.build.started',
        'dev.kiln.build.queued',
      ]);
      expect(output()).not.toContain(TOKEN);
    } finally {
      await receiver.close();
      await github.close();
    }
  });
});
