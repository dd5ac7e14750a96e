// The SLO rules and Alertmanager configuration Kiln writes, checked by the real tools: `promtool check rules`,
// `promtool test rules` (series fixtures → the alerts that fire, page vs ticket, each burn window, each branch class),
// `amtool check-config`, and `amtool config routes test` (where a team's alert goes).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { alertmanagerYaml, sloRulesYaml } from '../../../src/app/observe.js';
import { parseServerConfig } from '../../../src/config/index.js';
import { tempDir } from '../../helpers/tmp.js';

const CONFIG = parseServerConfig(
  `listen: 127.0.0.1:9090
projects:
  - name: shop
    repository: file:///srv/git/shop
    team: payments
slo:
  runbookUrl: https://runbooks.example.com/kiln/
alerting:
  teams:
    payments: { webhook: https://pager.example.com/payments }
`,
  'kiln-server.yaml',
);

const MAIN = 'project="shop",pipeline="shop-app",branch_class="main",team="payments"';
const OTHER = 'project="shop",pipeline="shop-app",branch_class="other",team="payments"';
const labels = (cls: string) => ({ project: 'shop', pipeline: 'shop-app', branch_class: cls, team: 'payments' });

function run(cmd: string, args: string[]): { status: number | null; out: string; stdout: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

/** Runs `promtool test rules` on one test case over the generated rules; returns its output (empty-ish when passed). */
function promtoolTest(dir: string, test: Record<string, unknown>): { status: number | null; out: string } {
  const file = join(dir, `test-${Math.random().toString(16).slice(2)}.yml`);
  writeFileSync(
    file,
    stringify({ rule_files: ['rules.yml'], evaluation_interval: '1m', tests: [{ interval: '1m', ...test }] }),
  );
  return run('promtool', ['test', 'rules', file]);
}

function rulesDir(): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'rules.yml'), sloRulesYaml(CONFIG));
  return dir;
}

const budget = (cls: string, what: string, ratio: string, objective: string, budgetPct: string) =>
  `shop (payments), ${cls}: ${ratio} of ${what} over the long window (objective ${objective}, a budget of ${budgetPct}).`;

describe('SLO rules (promtool)', () => {
  it('passes promtool check rules', () => {
    const dir = rulesDir();
    const r = run('promtool', ['check', 'rules', join(dir, 'rules.yml')]);
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('pages on a fast burn of a main branch (and opens the slow-burn ticket too), with the runbook', () => {
    const r = promtoolTest(rulesDir(), {
      input_series: [
        { series: `kiln_builds_total{${MAIN},status="succeeded"}`, values: '0+10x120' },
        { series: `kiln_builds_total{${MAIN},status="failed"}`, values: '0+5x120' },
      ],
      alert_rule_test: [
        {
          eval_time: '70m',
          alertname: 'KilnBuildFailuresFastBurn',
          exp_alerts: [
            {
              exp_labels: { ...labels('main'), severity: 'page', sli: 'M1' },
              exp_annotations: {
                summary: 'M1: builds fail faster than the main error budget allows (fast burn)',
                description: budget('main', 'builds fail', '33.33%', '98 %', '2 %'),
                runbook_url: 'https://runbooks.example.com/kiln/build-failures',
              },
            },
          ],
        },
        {
          eval_time: '70m',
          alertname: 'KilnBuildFailuresSlowBurn',
          exp_alerts: [
            {
              exp_labels: { ...labels('main'), severity: 'ticket', sli: 'M1' },
              exp_annotations: {
                summary: 'M1: builds fail faster than the main error budget allows (slow burn)',
                description: budget('main', 'builds fail', '33.33%', '98 %', '2 %'),
                runbook_url: 'https://runbooks.example.com/kiln/build-failures',
              },
            },
          ],
        },
      ],
    });
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('opens only a ticket for a slow burn (4 % failing: over 1x and 3x the budget, under 6x)', () => {
    const r = promtoolTest(rulesDir(), {
      input_series: [
        { series: `kiln_builds_total{${MAIN},status="succeeded"}`, values: '0+24x200' },
        { series: `kiln_builds_total{${MAIN},status="failed"}`, values: '0+1x200' },
      ],
      alert_rule_test: [
        { eval_time: '190m', alertname: 'KilnBuildFailuresFastBurn', exp_alerts: [] },
        {
          eval_time: '190m',
          alertname: 'KilnBuildFailuresSlowBurn',
          exp_alerts: [
            {
              exp_labels: { ...labels('main'), severity: 'ticket', sli: 'M1' },
              exp_annotations: {
                summary: 'M1: builds fail faster than the main error budget allows (slow burn)',
                description: budget('main', 'builds fail', '4%', '98 %', '2 %'),
                runbook_url: 'https://runbooks.example.com/kiln/build-failures',
              },
            },
          ],
        },
      ],
    });
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('gives other branches their own budget: 5 % failing is within it, 33 % opens a ticket, never a page', () => {
    const within = promtoolTest(rulesDir(), {
      input_series: [
        { series: `kiln_builds_total{${OTHER},status="succeeded"}`, values: '0+19x120' },
        { series: `kiln_builds_total{${OTHER},status="failed"}`, values: '0+1x120' },
      ],
      alert_rule_test: [{ eval_time: '70m', alertname: 'KilnBuildFailuresBudget', exp_alerts: [] }],
    });
    expect(within.out).toContain('SUCCESS');
    const over = promtoolTest(rulesDir(), {
      input_series: [
        { series: `kiln_builds_total{${OTHER},status="succeeded"}`, values: '0+10x120' },
        { series: `kiln_builds_total{${OTHER},status="failed"}`, values: '0+5x120' },
      ],
      alert_rule_test: [
        { eval_time: '70m', alertname: 'KilnBuildFailuresFastBurn', exp_alerts: [] },
        {
          eval_time: '70m',
          alertname: 'KilnBuildFailuresBudget',
          exp_alerts: [
            {
              exp_labels: { ...labels('other'), severity: 'ticket', sli: 'M1' },
              exp_annotations: {
                summary: 'M1: builds fail faster than the other error budget allows (any burn)',
                description: budget('other', 'builds fail', '33.33%', '90 %', '10 %'),
                runbook_url: 'https://runbooks.example.com/kiln/build-failures',
              },
            },
          ],
        },
      ],
    });
    expect(over.out).toContain('SUCCESS');
    expect(over.status).toBe(0);
  });

  it('pages when main builds take longer than the latency threshold (M2, from the histogram bucket at 600 s)', () => {
    const r = promtoolTest(rulesDir(), {
      input_series: [
        // Every build lands above 600 s: le="600" stays 0, the count grows.
        { series: `kiln_build_duration_seconds_bucket{${MAIN},le="600"}`, values: '0x120' },
        { series: `kiln_build_duration_seconds_count{${MAIN}}`, values: '0+2x120' },
      ],
      alert_rule_test: [
        {
          eval_time: '70m',
          alertname: 'KilnBuildLatencyFastBurn',
          exp_alerts: [
            {
              exp_labels: { ...labels('main'), severity: 'page', sli: 'M2' },
              exp_annotations: {
                summary: 'M2: builds take longer than 600 s faster than the main error budget allows (fast burn)',
                description: budget('main', 'builds take longer than 600 s', '100%', '95 %', '5 %'),
                runbook_url: 'https://runbooks.example.com/kiln/build-latency',
              },
            },
          ],
        },
      ],
    });
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('pages for an unsigned main artifact, and tickets stale vulnerability data after 10 minutes', () => {
    const r = promtoolTest(rulesDir(), {
      input_series: [
        { series: `kiln_artifacts_total{${MAIN}}`, values: '0+1x60' },
        { series: `kiln_artifacts_signed_total{${MAIN}}`, values: '0+1x30 30+0x30' },
        { series: 'kiln_vulnerability_data_age_seconds', values: '200000x60' }, // 55.6 h
      ],
      alert_rule_test: [
        { eval_time: '20m', alertname: 'KilnArtifactsUnsigned', exp_alerts: [] },
        {
          eval_time: '55m',
          alertname: 'KilnArtifactsUnsigned',
          exp_alerts: [
            {
              exp_labels: { ...labels('main'), severity: 'page', sli: 'M7' },
              exp_annotations: {
                summary: 'M7: artifacts published without signed provenance',
                description:
                  'shop (payments), main builds: about 25 artifact(s) in the last hour have no signed provenance.',
                runbook_url: 'https://runbooks.example.com/kiln/signing-failures',
              },
            },
          ],
        },
        { eval_time: '5m', alertname: 'KilnVulnerabilityDataStale', exp_alerts: [] },
        {
          eval_time: '15m',
          alertname: 'KilnVulnerabilityDataStale',
          exp_alerts: [
            {
              exp_labels: { severity: 'ticket' },
              exp_annotations: {
                summary: 'vulnerability data older than 48 h',
                description: 'the last `kiln db import` was 2d 7h 33m 20s ago: scans miss newer advisories.',
                runbook_url: 'https://runbooks.example.com/kiln/stale-vulnerability-data',
              },
            },
          ],
        },
      ],
    });
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });
});

describe('Alertmanager configuration (amtool)', () => {
  it('passes amtool check-config, sends every alert to Kiln and a team alert to its team too', () => {
    const dir = tempDir();
    const file = join(dir, 'alertmanager.yml');
    writeFileSync(file, alertmanagerYaml(CONFIG));
    const check = run('amtool', ['check-config', file]);
    expect(check.out).toContain('SUCCESS');
    expect(check.status).toBe(0);
    const team = run('amtool', ['config', 'routes', 'test', `--config.file=${file}`, 'team=payments', 'severity=page']);
    expect(team.stdout.trim()).toBe('kiln-alert-log,team-payments');
    const nobody = run('amtool', ['config', 'routes', 'test', `--config.file=${file}`, 'team=search', 'severity=page']);
    expect(nobody.stdout.trim()).toBe('kiln-alert-log');
  });
});
