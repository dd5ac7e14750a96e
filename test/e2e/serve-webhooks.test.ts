// `kiln serve --config` as a real process taking a GitHub push webhook: the delivery, signed with real HMAC, builds
// the pushed commit on a worker; the sender's redelivery is acknowledged and queues nothing.
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { demoProject } from '../helpers/project.js';
import { git, kiln, makeRepo, writeFiles } from '../helpers/repo.js';
import { startServe, stopServers } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

afterEach(stopServers);

const SECRET = 'the-webhook-secret-of-this-test';
const LIMIT = 64 * 1024;

/** Starts `kiln serve --config` and resolves with its base URL once it printed the listening line. */
const serve = (home: string, config: string) => startServe(home, ['--config', config], { GH_WEBHOOK_SECRET: SECRET });

/** The status and parsed body of a fetch. */
async function answer(r: Promise<Response>): Promise<{ status: number; json: ReturnType<typeof JSON.parse> }> {
  const response = await r;
  return { status: response.status, json: JSON.parse(await response.text()) };
}

describe('kiln serve --config: GitHub push webhooks', () => {
  it('builds the pushed commit of a verified delivery, and queues nothing for its redelivery', async () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const home = join(root, 'home');
    const pushed = makeRepo(repo, demoProject());
    // main moves on after the push: the build must still be of the pushed commit.
    writeFiles(repo, { 'src/util.js': 'export const twice = (x) => x + x;\n' });
    git(repo, ['commit', '-qam', 'later'], '2024-05-02T00:00:00Z');
    const config = join(root, 'kiln-server.yaml');
    writeFileSync(
      config,
      [
        `limits: { webhookBodyBytes: ${LIMIT} }`,
        'projects:',
        '  - name: demo',
        `    repository: file://${repo}`,
        '    webhooks:',
        '      github: { secret: { env: GH_WEBHOOK_SECRET } }',
        '',
      ].join('\n'),
    );
    const read = kiln(['tokens', 'create', '--scope', 'read'], { cwd: root, home }).stdout.trim();
    const { url, child, output } = await serve(home, config);

    const raw = Buffer.from(
      JSON.stringify({
        ref: 'refs/heads/main',
        before: '0'.repeat(40),
        after: pushed,
        created: true,
        deleted: false,
        repository: { full_name: 'acme/demo', clone_url: `file://${repo}` },
        head_commit: { id: pushed },
      }),
    );
    const deliver = (signature: string) =>
      answer(
        fetch(`${url}/v1/webhooks/github`, {
          method: 'POST',
          body: raw,
          headers: {
            'Content-Type': 'application/json',
            'X-GitHub-Event': 'push',
            'X-GitHub-Delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
            'X-Hub-Signature-256': `sha256=${signature}`,
          },
        }),
      );
    const signature = createHmac('sha256', SECRET).update(raw).digest('hex');

    const forged = await deliver(createHmac('sha256', 'not-the-secret').update(raw).digest('hex'));
    expect([forged.status, forged.json.error.code]).toEqual([401, 'KILN_UNAUTHENTICATED']);
    const first = await deliver(signature);
    expect(first.status).toBe(202);
    expect(first.json.builds).toEqual([{ project: 'demo', id: expect.any(String), deduplicated: false }]);
    const id = first.json.builds[0].id as string;

    let job = { status: 'queued' } as ReturnType<typeof JSON.parse>;
    for (let i = 0; i < 600 && ['queued', 'running'].includes(job.status); i++) {
      await new Promise((r) => setTimeout(r, 200));
      job = (await answer(fetch(`${url}/v1/builds/${id}`, { headers: { Authorization: `Bearer ${read}` } }))).json;
    }
    expect(job).toMatchObject({ id, project: 'demo', status: 'succeeded', commit: pushed, branch: 'main' });
    expect(job.build).toMatchObject({ status: 'succeeded', commit: pushed });

    // GitHub redelivers (a timeout on its side, or "Redeliver" pressed): acknowledged, nothing queued or built.
    const again = await deliver(signature);
    expect([again.status, again.json]).toEqual([
      200,
      { delivery: '72d3162e-cc78-11e3-81ab-4c9367dc0958', duplicate: true, builds: [{ project: 'demo', id }] },
    ]);
    const queue = await answer(fetch(`${url}/v1/queue`, { headers: { Authorization: `Bearer ${read}` } }));
    expect([queue.json.running, queue.json.classes.map((c: { depth: number }) => c.depth)]).toEqual([0, [0, 0, 0, 0]]);
    const builds = JSON.parse(kiln(['builds', '--json'], { cwd: root, home }).stdout);
    expect(builds.map((b: { id: string }) => b.id)).toEqual([job.build.id]);

    // A body over limits.webhookBodyBytes is answered 413 over a real socket, and queues nothing.
    const huge = await answer(
      fetch(`${url}/v1/webhooks/github`, {
        method: 'POST',
        body: Buffer.alloc(LIMIT * 4, 32),
        headers: { 'X-GitHub-Event': 'push', 'X-GitHub-Delivery': 'huge', 'X-Hub-Signature-256': 'sha256=00' },
      }),
    );
    expect([huge.status, huge.json.error.code]).toEqual([413, 'KILN_PAYLOAD_TOO_LARGE']);
    const after = await answer(fetch(`${url}/v1/queue`, { headers: { Authorization: `Bearer ${read}` } }));
    expect(after.json.classes.map((c: { depth: number }) => c.depth)).toEqual([0, 0, 0, 0]);

    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output()).not.toContain(SECRET);
  });
});
