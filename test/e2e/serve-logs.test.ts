// A build's log while it runs, end to end: `kiln serve --config` builds a project whose step prints a line every
// half second; `kiln submit --follow` prints each line (with its step) while the job still runs, then the end, and
// GET /v1/builds/{id}/logs gives the stored lines of one step afterwards.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_KILN_YAML, demoProject } from '../helpers/project.js';
import { KILN, kiln, kilnAsync, makeRepo } from '../helpers/repo.js';
import { startServe, stopServers } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

afterEach(stopServers);

const TICKS = 'for i in 1 2 3 4 5 6; do echo "tick $i"; sleep 0.5; done; echo "to stderr" >&2; ';
const SLOW_KILN_YAML = DEMO_KILN_YAML.replace('run: >-\n      mkdir', `run: >-\n      ${TICKS}mkdir`);

describe('kiln submit --follow', () => {
  it("prints the build's log lines while the job runs, then its end, with the build's exit status", async () => {
    expect(SLOW_KILN_YAML).toContain('tick $i');
    const root = tempDir();
    const repo = join(root, 'repo');
    const home = join(root, 'home');
    makeRepo(repo, demoProject({ 'kiln.yaml': SLOW_KILN_YAML }));
    const config = join(root, 'kiln-server.yaml');
    writeFileSync(config, `projects:\n  - name: demo\n    repository: file://${repo}\n`);
    const token = kiln(['tokens', 'create', '--scope', 'trigger'], { cwd: root, home }).stdout.trim();
    const { url } = await startServe(home, ['--config', config]);
    const auth = { Authorization: `Bearer ${token}` };

    const child = spawn(process.execPath, [KILN, 'submit', 'demo', '--follow', '--server', url], {
      cwd: root,
      env: { ...process.env, KILN_HOME: join(root, 'client-home'), KILN_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += String(d);
    });
    // Liveness: when the first line reaches the follower, the server still says the job runs.
    const whenFirstLine = new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        const before = stderr;
        stderr += String(d);
        if (before.includes('compile | tick 1') || !stderr.includes('compile | tick 1')) return;
        const id = /kiln: job (\S+): /.exec(stderr)?.[1];
        const seen = stderr;
        fetch(`${url}/v1/builds/${id}`, { headers: auth })
          .then((r) => r.json() as Promise<{ status: string }>)
          .then(
            (job) => resolve(`${job.status} ${seen.includes('tick 6') ? 'with' : 'without'} the last tick`),
            reject,
          );
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const first = Promise.race([whenFirstLine, exited.then((code) => `exited ${code} before any line`)]);
    expect(await first).toBe('running without the last tick');
    expect(await exited).toBe(0);

    const ticks = stderr.split('\n').filter((l) => l.startsWith('compile | tick'));
    expect(ticks).toEqual([1, 2, 3, 4, 5, 6].map((i) => `compile | tick ${i}`));
    expect(stderr).toContain('compile | to stderr\n');
    expect(stderr).toContain('test | tests ok\n');
    expect(stderr).toMatch(/compile \| tick 6\n[\s\S]*kiln: job \S+: succeeded\n$/);
    expect(stdout).toMatch(/^build \S+ succeeded\n {2}demo {2}sha256:[0-9a-f]{64}\n$/);

    // The stored log of one step, after the job ended: its lines, then the end.
    const id = /kiln: job (\S+): /.exec(stderr)?.[1] as string;
    const sse = await fetch(`${url}/v1/builds/${id}/logs?step=test`, { headers: auth });
    expect(sse.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await sse.text()).split('\n\n').filter(Boolean);
    const data = events.map((e) => JSON.parse(/^data: (.*)$/m.exec(e)?.[1] ?? 'null'));
    expect(data.map((d) => [d.step ?? null, d.stream ?? null, d.text ?? d.status])).toEqual([
      ['test', 'kiln', 'step test started'],
      ['test', 'stdout', 'tests ok'],
      ['test', 'kiln', expect.stringMatching(/^step test succeeded in \d+\.\ds \(exit 0\)$/)],
      [null, null, 'succeeded'],
    ]);

    // --json: the log as JSON lines on stderr, the job as JSON on stdout.
    const json = await kilnAsync(['submit', 'demo', '--force', '--follow', '--json', '--server', url], {
      cwd: root,
      home: join(root, 'client-home'),
      env: { KILN_TOKEN: token },
    });
    expect(json.status).toBe(0);
    const lines = json.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // The same commit again: its steps are replayed from the cache, and the log says so.
    expect(lines.map((l) => l.event)).toEqual(lines.map(() => 'log'));
    expect(lines[0]).toMatchObject({ id: '1:1', attempt: 1, at: expect.any(String) });
    expect(lines).toContainEqual(expect.objectContaining({ step: 'compile', text: expect.stringMatching(/cached/) }));
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'succeeded', build: { status: 'succeeded' } });
  });
});
