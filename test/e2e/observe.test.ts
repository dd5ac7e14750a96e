// The whole alerting path with the real components: a real Prometheus on 127.0.0.1 scrapes a real `kiln serve`,
// evaluates the rules `kiln slo rules` wrote, and sends to a real Alertmanager configured by `kiln slo alertmanager`;
// a burst of failing main builds fires the page, and Alertmanager delivers it to Kiln's alert log.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/net.js';
import { DEBUG_ADVISORY, DEMO_KILN_YAML, demoProject } from '../helpers/project.js';
import { kiln, kilnAsync, makeRepo } from '../helpers/repo.js';
import { type Body, callApi, startServe, stopServers } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

const children: ChildProcess[] = [];
afterEach(() => {
  stopServers();
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** Starts a Debian binary on loopback; resolves once `ready` (a URL) answers 200. */
async function startService(cmd: string, args: string[], ready: string): Promise<() => string> {
  let out = '';
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  child.stdout.on('data', (c) => {
    out = (out + c).slice(-20_000);
  });
  child.stderr.on('data', (c) => {
    out = (out + c).slice(-20_000);
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${cmd} exited ${child.exitCode}:\n${out}`);
    const ok = await fetch(ready).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return () => out;
    if (Date.now() > deadline) throw new Error(`${cmd} not ready in 30 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const FAILING_KILN_YAML = `name: shop
steps:
  test:
    run: echo "3 tests failed" && exit 1
    inputs: [src/**]
    outputs: [out]
artifacts:
  - name: shop
    from: test
    path: out
`;

describe('alerting end to end', () => {
  it('a burst of failing main builds pages, and the page reaches Kiln’s alert log through Alertmanager', async () => {
    const root = tempDir();
    const home = join(root, 'home');
    const repo = join(root, 'repo');
    makeRepo(repo, { 'kiln.yaml': FAILING_KILN_YAML, 'src/a.txt': 'a\n' });
    const serverYaml = (extra: string) =>
      `projects:\n  - name: shop\n    repository: file://${repo}\n    team: payments\n${extra}`;
    writeFileSync(join(root, 'kiln-server.yaml'), serverYaml(''));
    const trigger = kiln(['tokens', 'create', '--scope', 'trigger'], { cwd: root, home }).stdout.trim();
    const read = kiln(['tokens', 'create', '--scope', 'read'], { cwd: root, home }).stdout.trim();
    const served = await startServe(home, ['--config', join(root, 'kiln-server.yaml'), '--workers', '0']);
    const kilnPort = new URL(served.url).port;

    // Alertmanager: every alert to Kiln's log, within a second.
    const amPort = await freePort();
    writeFileSync(join(root, 'kiln-token'), `${trigger}\n`);
    writeFileSync(
      join(root, 'alerting.yaml'),
      serverYaml(
        `alerting:\n  kilnUrl: ${served.url}\n  tokenFile: ${join(root, 'kiln-token')}\n  groupWait: 1s\n  groupInterval: 1s\n`,
      ),
    );
    const am = kiln(['slo', 'alertmanager', '--config', join(root, 'alerting.yaml')], { cwd: root, home });
    expect(am.status).toBe(0);
    writeFileSync(join(root, 'alertmanager.yml'), am.stdout);
    mkdirSync(join(root, 'am-data'));
    await startService(
      'prometheus-alertmanager',
      [
        `--config.file=${join(root, 'alertmanager.yml')}`,
        `--storage.path=${join(root, 'am-data')}`,
        `--web.listen-address=127.0.0.1:${amPort}`,
        '--cluster.listen-address=',
      ],
      `http://127.0.0.1:${amPort}/-/ready`,
    );

    // Prometheus: scrapes Kiln every second (no token: it is on loopback) and evaluates the generated rules.
    const rules = kiln(['slo', 'rules', '--config', join(root, 'alerting.yaml')], { cwd: root, home });
    expect(rules.status).toBe(0);
    writeFileSync(join(root, 'rules.yml'), rules.stdout);
    const promPort = await freePort();
    writeFileSync(
      join(root, 'prometheus.yml'),
      `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [${join(root, 'rules.yml')}]
alerting:
  alertmanagers: [{ static_configs: [{ targets: ['127.0.0.1:${amPort}'] }] }]
scrape_configs:
  - job_name: kiln
    static_configs: [{ targets: ['127.0.0.1:${kilnPort}'] }]
`,
    );
    mkdirSync(join(root, 'prom-data'));
    await startService(
      'prometheus',
      [
        `--config.file=${join(root, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(root, 'prom-data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      `http://127.0.0.1:${promPort}/-/ready`,
    );
    const query = async (promql: string): Promise<Body> => {
      const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(promql)}`);
      return ((await r.json()) as Body).data.result;
    };

    // One failing build, scraped; then the burst: the counter rises between scrapes.
    expect((await kilnAsync(['build', '--runner', 'host'], { cwd: repo, home })).status).toBe(1);
    const scraped = Date.now();
    while ((await query('kiln_builds_total{status="failed"}')).length === 0) {
      if (Date.now() - scraped > 30_000) throw new Error('Prometheus never scraped a failed build');
      await new Promise((r) => setTimeout(r, 500));
    }
    for (let i = 0; i < 3; i++) {
      expect((await kilnAsync(['build', '--runner', 'host'], { cwd: repo, home })).status).toBe(1);
    }

    // The page fires in Prometheus and reaches Kiln's alert log through Alertmanager.
    const deadline = Date.now() + 60_000;
    let log: Body[] = [];
    for (;;) {
      log = (await callApi(`${served.url}/v1/alerts`, read)).json.alerts;
      if (log.some((a: Body) => a.alertname === 'KilnBuildFailuresFastBurn')) break;
      if (Date.now() > deadline) {
        throw new Error(`no page in Kiln's log after 60 s; alerts: ${JSON.stringify(await query('ALERTS'))}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const page = log.find((a: Body) => a.alertname === 'KilnBuildFailuresFastBurn');
    expect(page).toMatchObject({
      status: 'firing',
      severity: 'page',
      project: 'shop',
      team: 'payments',
      labels: { pipeline: 'shop', branch_class: 'main', sli: 'M1' },
      annotations: { runbook_url: `${served.url}/runbooks/build-failures` },
    });
    // Its runbook is served where the alert says.
    const runbook = await fetch(page.annotations.runbook_url);
    expect([runbook.status, (await runbook.text()).startsWith('# ')]).toEqual([200, true]);
  }, 150_000);
});

describe('kiln metrics and kiln slo on the command line', () => {
  it('writes the metrics for node_exporter atomically, prints them, and refuses bad arguments with exit 2', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const home = join(root, 'home');
    // A dependency step (network: true), and a low-severity advisory against the demo's debug@4.4.3.
    const withDeps = DEMO_KILN_YAML.replace(
      'steps:\n',
      'steps:\n  deps:\n    run: echo fetched\n    network: true\n    inputs: [package.json]\n',
    );
    makeRepo(repo, demoProject({ 'kiln.yaml': withDeps }));
    mkdirSync(join(root, 'osv'));
    const low = {
      ...DEBUG_ADVISORY,
      id: 'GHSA-kiln-test-low1',
      severity: undefined,
      database_specific: { severity: 'LOW' },
    };
    writeFileSync(join(root, 'osv', 'low.json'), JSON.stringify(low));
    expect(kiln(['db', 'import', join(root, 'osv')], { cwd: root, home }).status).toBe(0);
    const built = kiln(['build', '--runner', 'host'], { cwd: repo, home });
    expect([built.status, built.stderr]).toEqual([0, expect.any(String)]);
    const dir = join(root, 'textfile');
    const written = kiln(['metrics', '--textfile', join(dir, 'kiln.prom')], { cwd: root, home });
    expect([written.status, written.stdout]).toEqual([0, '']);
    expect(readdirSync(dir)).toEqual(['kiln.prom']); // no temp file left beside it
    const text = readFileSync(join(dir, 'kiln.prom'), 'utf8');
    expect(text).toMatch(
      /^kiln_builds_total\{project="demo",pipeline="demo",branch_class="main",team="",status="succeeded"\} 1$/m,
    );
    expect(text).toMatch(/^kiln_vulnerability_findings\{project="demo",pipeline="demo",team="",severity="low"\} 1$/m);
    expect(text).toMatch(
      /^kiln_dependency_step_duration_seconds_count\{project="demo",pipeline="demo",branch_class="main",team=""\} 1$/m,
    );
    expect(text).toMatch(/^kiln_vulnerability_data_age_seconds \d/m);
    const printed = kiln(['metrics'], { cwd: root, home });
    expect(printed.stdout).toContain('kiln_builds_total{project="demo"');
    expect(printed.stdout.split('\n').filter((l) => l.startsWith('kiln_builds_total'))).toEqual(
      text.split('\n').filter((l) => l.startsWith('kiln_builds_total')),
    );

    const missing = kiln(['slo', 'rules', '--config', join(root, 'nope.yaml')], { cwd: root, home });
    expect([missing.status, missing.stderr]).toEqual([2, expect.stringContaining('KILN_CONFIG_NOT_FOUND')]);
    const usage = kiln(['slo', 'dashboards'], { cwd: root, home });
    expect([usage.status, usage.stderr]).toEqual([2, expect.stringContaining('expected "rules" or "alertmanager"')]);
    const help = kiln(['slo', '--help'], { cwd: root, home });
    expect([help.status, help.stdout]).toEqual([0, expect.stringContaining('multi-window multi-burn-rate')]);
  });
});
