// SLOs as Prometheus rules: recording rules for each SLI's error ratio over the windows the alerts read, and
// multi-window, multi-burn-rate alerts as the SRE workbook has them (14.4× over 1 h and 5 m or 6× over 6 h and 30 m
// page; 3× over 1 d and 2 h or 1× over 3 d and 6 h open a ticket). Main and release branches page; every other branch
// has its own, looser budget and only opens tickets. Every alert carries project, pipeline, team, severity and a
// runbook_url.
import type { BranchClass, Objective, SloConfig } from '../config/index.js';
import { boundText } from './exposition.js';

/** One Prometheus rule (recording or alerting), as the rule file has it. */
export type PrometheusRule =
  | { readonly record: string; readonly expr: string }
  | {
      readonly alert: string;
      readonly expr: string;
      readonly for?: string;
      readonly labels: Readonly<Record<string, string>>;
      readonly annotations: Readonly<Record<string, string>>;
    };

/** A rule file: `groups:` of named rules. */
export interface RuleFile {
  readonly groups: readonly { readonly name: string; readonly interval?: string; readonly rules: PrometheusRule[] }[];
}

/** The windows error ratios are recorded over. */
export const WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;
type Window = (typeof WINDOWS)[number];

/** The burn-rate pairs: a long and a short window, the burn factor, and whether a main or release branch pages. */
const BURNS: readonly { long: Window; short: Window; factor: number; pages: boolean }[] = [
  { long: '1h', short: '5m', factor: 14.4, pages: true },
  { long: '6h', short: '30m', factor: 6, pages: true },
  { long: '1d', short: '2h', factor: 3, pages: false },
  { long: '3d', short: '6h', factor: 1, pages: false },
];

const CLASSES: readonly BranchClass[] = ['main', 'release', 'other'];

/** A ratio SLI the burn-rate alerts watch: how its error ratio is computed and what its alerts are called. */
interface BurnSli {
  readonly id: string;
  readonly alert: string;
  readonly record: string;
  readonly by: string;
  readonly objective: Objective;
  readonly runbook: string;
  readonly what: string;
  /** The error ratio over a window (`[w]` is replaced). */
  readonly ratio: (w: string) => string;
}

const BUILD_LABELS = 'project, pipeline, branch_class, team';
const JOB_LABELS = 'project, branch_class, team';

/** The SLIs alerted on by burn rate, with the configured objectives. */
function burnSlis(slo: SloConfig): BurnSli[] {
  const o = slo.objectives;
  const slow = (metric: string, seconds: number, by: string) => (w: string) =>
    `1 - (sum by (${by}) (rate(${metric}_bucket{le="${boundText(seconds)}"}[${w}])) / sum by (${by}) (rate(${metric}_count[${w}])))`;
  return [
    {
      id: 'M1',
      alert: 'KilnBuildFailures',
      record: 'kiln:build_errors:ratio_rate',
      by: BUILD_LABELS,
      objective: o.buildSuccess,
      runbook: 'build-failures',
      what: 'builds fail',
      ratio: (w) =>
        `sum by (${BUILD_LABELS}) (rate(kiln_builds_total{status!="succeeded"}[${w}])) / sum by (${BUILD_LABELS}) (rate(kiln_builds_total[${w}]))`,
    },
    {
      id: 'M2',
      alert: 'KilnBuildLatency',
      record: 'kiln:build_slow:ratio_rate',
      by: BUILD_LABELS,
      objective: o.buildLatency,
      runbook: 'build-latency',
      what: `builds take longer than ${o.buildLatency.seconds} s`,
      ratio: slow('kiln_build_duration_seconds', o.buildLatency.seconds, BUILD_LABELS),
    },
    {
      id: 'M3',
      alert: 'KilnPublishTime',
      record: 'kiln:publish_slow:ratio_rate',
      by: BUILD_LABELS,
      objective: o.publishTime,
      runbook: 'publish-time',
      what: `artifacts take longer than ${o.publishTime.seconds} s to publish`,
      ratio: slow('kiln_artifact_publish_seconds', o.publishTime.seconds, BUILD_LABELS),
    },
    {
      id: 'M8',
      alert: 'KilnQueueWait',
      record: 'kiln:queue_slow:ratio_rate',
      by: JOB_LABELS,
      objective: o.queueWait,
      runbook: 'queue-backlog',
      what: `jobs wait longer than ${o.queueWait.seconds} s for a worker`,
      ratio: slow('kiln_queue_wait_seconds', o.queueWait.seconds, JOB_LABELS),
    },
    {
      id: 'M9',
      alert: 'KilnWorkerFailures',
      record: 'kiln:run_infra_failures:ratio_rate',
      by: JOB_LABELS,
      objective: o.workerFailures,
      runbook: 'worker-failures',
      what: 'build runs fail for infrastructure causes',
      ratio: (w) =>
        `sum by (${JOB_LABELS}) (rate(kiln_build_runs_total{outcome=~"infra|lost"}[${w}])) / sum by (${JOB_LABELS}) (rate(kiln_build_runs_total{outcome!="cancelled"}[${w}]))`,
    },
  ];
}

/** Where runbook `name` is: under the configured base URL, else the server's own /runbooks. */
export function runbookUrl(slo: Pick<SloConfig, 'runbookUrl'>, serverUrl: string, name: string): string {
  return `${slo.runbookUrl ?? `${serverUrl}/runbooks`}/${name}`;
}

/** The rule file for `slo`; `serverUrl` is where the server's runbooks are (when no runbookUrl is configured). */
export function sloRules(slo: SloConfig, serverUrl: string): RuleFile {
  const runbook = (name: string) => runbookUrl(slo, serverUrl, name);
  const slis = burnSlis(slo);
  const recording: PrometheusRule[] = slis.flatMap((s) =>
    WINDOWS.map((w) => ({ record: `${s.record}${w}`, expr: s.ratio(w) })),
  );
  recording.push({
    record: 'kiln:cache_hits:ratio_rate6h',
    expr: `sum by (project, pipeline, team) (rate(kiln_cache_lookups_total{result="hit"}[6h])) / sum by (project, pipeline, team) (rate(kiln_cache_lookups_total[6h]))`,
  });
  const burnAlerts = slis.flatMap((s) => CLASSES.flatMap((c) => burnAlertsOf(s, c, runbook)));
  return {
    groups: [
      { name: 'kiln-sli-ratios', rules: recording },
      { name: 'kiln-slo-burn-rate', rules: burnAlerts },
      { name: 'kiln-coverage', rules: coverageAlerts(runbook) },
      { name: 'kiln-operations', rules: operationAlerts(slo, runbook) },
    ],
  };
}

function burnAlertsOf(s: BurnSli, c: BranchClass, runbook: (name: string) => string): PrometheusRule[] {
  const budget = 1 - s.objective[c];
  const pages = c !== 'other';
  const when = (burns: typeof BURNS) =>
    burns
      .map(
        (b) =>
          `(${s.record}${b.long}{branch_class="${c}"} > (${b.factor} * ${round(budget)}) and ${s.record}${b.short}{branch_class="${c}"} > (${b.factor} * ${round(budget)}))`,
      )
      .join('\nor\n');
  const fast = BURNS.filter((b) => b.pages);
  const slow = BURNS.filter((b) => !b.pages);
  const annotations = (speed: string) => ({
    summary: `${s.id}: ${s.what} faster than the ${c} error budget allows (${speed})`,
    description: `{{ $labels.project }} ({{ $labels.team }}), ${c}: {{ $value | humanizePercentage }} of ${s.what} over the long window (objective ${pct(s.objective[c])}, a budget of ${pct(budget)}).`,
    runbook_url: runbook(s.runbook),
  });
  const labels = (severity: 'page' | 'ticket') => ({ severity, sli: s.id, branch_class: c });
  if (!pages)
    return [
      { alert: `${s.alert}Budget`, expr: when(BURNS), labels: labels('ticket'), annotations: annotations('any burn') },
    ];
  return [
    { alert: `${s.alert}FastBurn`, expr: when(fast), labels: labels('page'), annotations: annotations('fast burn') },
    { alert: `${s.alert}SlowBurn`, expr: when(slow), labels: labels('ticket'), annotations: annotations('slow burn') },
  ];
}

/** M5, M7, M10 must be 100 %: any artifact without its scan, signature or SBOM alerts (pages on main and release). */
function coverageAlerts(runbook: (name: string) => string): PrometheusRule[] {
  const missing = (id: string, alert: string, covered: string, what: string, name: string) =>
    (['page', 'ticket'] as const).map((severity) => {
      const classes = severity === 'page' ? 'main|release' : 'other';
      const sel = `{branch_class=~"${classes}"}`;
      return {
        alert,
        expr: `(sum by (${BUILD_LABELS}) (increase(kiln_artifacts_total${sel}[1h])) - sum by (${BUILD_LABELS}) (increase(${covered}${sel}[1h]))) > 0.5`,
        labels: { severity, sli: id },
        annotations: {
          summary: `${id}: artifacts published without ${what}`,
          description: `{{ $labels.project }} ({{ $labels.team }}), {{ $labels.branch_class }} builds: about {{ $value }} artifact(s) in the last hour have no ${what}.`,
          runbook_url: runbook(name),
        },
      };
    });
  return [
    ...missing(
      'M5',
      'KilnArtifactsUnscanned',
      'kiln_artifacts_scanned_total',
      'a vulnerability scan',
      'evidence-missing',
    ),
    ...missing('M7', 'KilnArtifactsUnsigned', 'kiln_artifacts_signed_total', 'signed provenance', 'signing-failures'),
    ...missing('M10', 'KilnArtifactsWithoutSbom', 'kiln_artifacts_sbom_total', 'an SBOM', 'evidence-missing'),
  ];
}

/** The cache (M4), flaky steps, worker disks, the queue's backlog and the vulnerability data's age. */
function operationAlerts(slo: SloConfig, runbook: (name: string) => string): PrometheusRule[] {
  const maxAge = slo.vulnerabilityDataMaxAgeHours * 3600;
  return [
    {
      alert: 'KilnCacheHitRateLow',
      expr: `kiln:cache_hits:ratio_rate6h < ${slo.objectives.cacheHitRate}`,
      for: '30m',
      labels: { severity: 'ticket', sli: 'M4' },
      annotations: {
        summary: `M4: cache hit rate under ${pct(slo.objectives.cacheHitRate)}`,
        description:
          '{{ $labels.project }} ({{ $labels.team }}): {{ $value | humanizePercentage }} of step cache lookups hit over 6 h.',
        runbook_url: runbook('cache-hit-rate'),
      },
    },
    {
      alert: 'KilnFlakySteps',
      expr: `sum by (${BUILD_LABELS}) (increase(kiln_flaky_steps_total[3d])) > 2`,
      labels: { severity: 'ticket' },
      annotations: {
        summary: 'steps keep passing only after failing',
        description:
          '{{ $labels.project }} ({{ $labels.team }}), {{ $labels.branch_class }}: {{ $value }} flaky step runs in 3 days.',
        runbook_url: runbook('flaky-steps'),
      },
    },
    {
      alert: 'KilnWorkerDiskLow',
      expr: `min by (worker, host, dir) (kiln_worker_free_bytes) < ${slo.workerDiskMinFreeBytes}`,
      for: '5m',
      labels: { severity: 'page' },
      annotations: {
        summary: 'a worker is running out of disk',
        description:
          'worker {{ $labels.worker }} on {{ $labels.host }}: {{ $value | humanize1024 }}B free in its {{ $labels.dir }} directory.',
        runbook_url: runbook('worker-disk'),
      },
    },
    {
      alert: 'KilnQueueBacklog',
      expr: `max by (priority) (kiln_queue_oldest_wait_seconds) > ${slo.objectives.queueWait.seconds * 5}`,
      for: '5m',
      labels: { severity: 'page' },
      annotations: {
        summary: 'jobs wait in the queue',
        description: 'the oldest {{ $labels.priority }} job has waited {{ $value | humanizeDuration }}.',
        runbook_url: runbook('queue-backlog'),
      },
    },
    {
      alert: 'KilnVulnerabilityDataStale',
      expr: `kiln_vulnerability_data_age_seconds > ${maxAge}`,
      for: '10m',
      labels: { severity: 'ticket' },
      annotations: {
        summary: `vulnerability data older than ${slo.vulnerabilityDataMaxAgeHours} h`,
        description: 'the last `kiln db import` was {{ $value | humanizeDuration }} ago: scans miss newer advisories.',
        runbook_url: runbook('stale-vulnerability-data'),
      },
    },
  ];
}

function round(n: number): string {
  return String(Number(n.toPrecision(6)));
}

function pct(n: number): string {
  return `${Number((n * 100).toPrecision(6))} %`;
}
