// The Build Stage SLIs (M1–M10) and the farm's state as Prometheus metric families, from the facts the store sums
// (store/metrics.ts). Every counter and histogram is a sum over recorded facts, so two replicas say the same and a
// restart resets nothing; labels are bounded: a branch becomes its class (main, release, other), never its name.

import type { BranchClass, ServerProject, SloConfig } from '../config/index.js';
import { globMatches } from '../core/glob.js';
import { LATENCY_BOUNDS_SECONDS } from '../core/latency.js';
import type { CurrentFacts, FactGroup, MetricFacts } from '../store/index.js';
import type { HistogramFamily, Labels, MetricFamily, ScalarFamily } from './exposition.js';

/** A worker as the metrics show it. */
export interface WorkerGauge {
  readonly id: string;
  readonly host: string;
  /** False when it stopped or has not reported for three report intervals. */
  readonly up: boolean;
  readonly heartbeatAgeMs: number;
  readonly workFreeBytes: number | null;
  readonly cacheFreeBytes: number | null;
  readonly memFreeBytes: number | null;
}

/** What the metrics are made of. */
export interface MetricsInput {
  readonly facts: MetricFacts;
  readonly current: CurrentFacts;
  readonly workers: readonly WorkerGauge[];
  /** The configured projects (their teams); empty for a server without kiln-server.yaml. */
  readonly projects: readonly Pick<ServerProject, 'name' | 'team'>[];
  readonly slo: Pick<SloConfig, 'mainBranches' | 'releaseBranches'>;
  readonly now: number;
}

/** The class of a build of `name` (its branch, else the tag or ref it was queued for). */
export function branchClassOf(
  name: string | null,
  slo: Pick<SloConfig, 'mainBranches' | 'releaseBranches'>,
): BranchClass {
  if (name === null) return 'other';
  if (slo.mainBranches.some((g) => globMatches(g, name))) return 'main';
  if (slo.releaseBranches.some((g) => globMatches(g, name))) return 'release';
  return 'other';
}

/** Every metric family Kiln exports. */
export function metricFamilies(input: MetricsInput): MetricFamily[] {
  const teamOf = new Map(input.projects.map((p) => [p.name, p.team ?? '']));
  const labelsOf = (dims: FactGroup['dims'], keep: readonly string[]): Labels => {
    const project = dims.project ?? '';
    const labels: Record<string, string> = {
      project,
      ...(dims.pipeline !== undefined ? { pipeline: dims.pipeline ?? '' } : {}),
      branch_class: branchClassOf(dims.branch ?? dims.ref ?? null, input.slo),
      team: teamOf.get(project) ?? '',
    };
    for (const k of keep) labels[k] = dims[k] ?? '';
    return labels;
  };
  const { facts } = input;
  const builds = facts.builds;
  const succeeded = builds.filter((g) => g.dims.status === 'succeeded');
  return [
    counter('kiln_builds_total', 'Builds that ended, by status (M1: build success rate).', builds, (g) => [
      [labelsOf(g.dims, ['status']), g.counts.n ?? 0],
    ]),
    histogram(
      'kiln_build_duration_seconds',
      'Build duration, start to end, of ended builds (M2: build latency).',
      builds,
      (g) => labelsOf(g.dims, []),
      'dur_le',
      (g) => [g.counts.n ?? 0, (g.counts.dur_sum ?? 0) / 1000],
    ),
    histogram(
      'kiln_artifact_publish_seconds',
      "From a build's steps ending to its artifacts being in the OCI layout or registry (M3: artifact publish time).",
      succeeded.filter((g) => (g.counts.pub_n ?? 0) > 0),
      (g) => labelsOf(g.dims, []),
      'pub_le',
      (g) => [g.counts.pub_n ?? 0, (g.counts.pub_sum ?? 0) / 1000],
    ),
    counter('kiln_cache_lookups_total', 'Step cache lookups, by result (M4: cache hit rate).', builds, (g) => [
      [{ ...labelsOf(g.dims, []), result: 'hit' }, g.counts.hits ?? 0],
      [{ ...labelsOf(g.dims, []), result: 'miss' }, g.counts.misses ?? 0],
    ]),
    counter('kiln_cache_restored_bytes_total', 'Bytes of step outputs restored from the cache.', builds, (g) => [
      [labelsOf(g.dims, []), g.counts.bytes_restored ?? 0],
    ]),
    counter('kiln_flaky_steps_total', 'Steps that passed only after failing (retried).', builds, (g) => [
      [labelsOf(g.dims, []), g.counts.flaky_steps ?? 0],
    ]),
    counter(
      'kiln_artifacts_total',
      'Artifacts of succeeded builds (published to the OCI layout).',
      facts.artifacts,
      (g) => [[labelsOf(g.dims, []), g.counts.n ?? 0]],
    ),
    counter(
      'kiln_artifacts_scanned_total',
      'Artifacts with a signed vulnerability scan (M5: vulnerability scan rate).',
      facts.artifacts,
      (g) => [[labelsOf(g.dims, []), g.counts.scanned ?? 0]],
    ),
    counter(
      'kiln_artifacts_signed_total',
      'Artifacts with signed provenance (M7: artifact signing coverage).',
      facts.artifacts,
      (g) => [[labelsOf(g.dims, []), g.counts.signed ?? 0]],
    ),
    counter('kiln_artifacts_sbom_total', 'Artifacts with an SBOM (M10: SBOM coverage).', facts.artifacts, (g) => [
      [labelsOf(g.dims, []), g.counts.with_sbom ?? 0],
    ]),
    histogram(
      'kiln_dependency_step_duration_seconds',
      'Duration of the steps with network: true (dependency fetches) that ran, succeeded or failed.',
      facts.depsteps,
      (g) => labelsOf(g.dims, []),
      'dur_le',
      (g) => [g.counts.n ?? 0, (g.counts.dur_sum ?? 0) / 1000],
    ),
    counter(
      'kiln_dependency_step_failures_total',
      'Steps with network: true (dependency fetches) that failed.',
      facts.depsteps,
      (g) => [[labelsOf(g.dims, []), g.counts.failed ?? 0]],
    ),
    gauge(
      'kiln_vulnerability_findings',
      "Vulnerability findings by severity of each project's latest scanned succeeded build.",
      facts.findings.flatMap((g) => {
        const { branch_class: _class, ...labels } = labelsOf(g.dims, []);
        return Object.entries(g.counts)
          .filter(([severity]) => severity !== 'at')
          .map(([severity, n]) => [{ ...labels, severity }, n] as const);
      }),
    ),
    histogram(
      'kiln_queue_wait_seconds',
      "From a job's submission to its first start on a worker (M8: queue wait time).",
      facts.queue,
      (g) => labelsOf(g.dims, ['priority']),
      'wait_le',
      (g) => [g.counts.n ?? 0, (g.counts.wait_sum ?? 0) / 1000],
    ),
    counter(
      'kiln_build_runs_total',
      'Attempts at jobs by how they ended; infra and lost are infrastructure failures (M9: worker failure rate).',
      facts.attempts,
      (g) => [[labelsOf(g.dims, ['priority', 'outcome']), g.counts.n ?? 0]],
    ),
    ...stateFamilies(input),
  ];
}

/** What is true now: the queue, the workers, the vulnerability data's age. */
function stateFamilies(input: MetricsInput): ScalarFamily[] {
  const { current, workers, now } = input;
  const worker = (w: WorkerGauge) => ({ worker: w.id, host: w.host });
  const imported = current.lastOsvImportAt === null ? Number.NaN : Date.parse(current.lastOsvImportAt);
  return [
    gauge(
      'kiln_queue_depth',
      'Jobs queued, per priority class.',
      current.queued.map((q) => [{ priority: q.priority }, q.depth]),
    ),
    gauge(
      'kiln_queue_oldest_wait_seconds',
      'How long the oldest queued job of each priority class has waited.',
      current.queued.map((q) => [{ priority: q.priority }, Math.max(0, now - Date.parse(q.oldestSubmittedAt)) / 1000]),
    ),
    gauge(
      'kiln_worker_up',
      'Workers heard from in the last hour: 1 while it reports, 0 once stopped or silent.',
      workers.map((w) => [worker(w), w.up ? 1 : 0]),
    ),
    gauge(
      'kiln_worker_heartbeat_age_seconds',
      "Time since each worker's last report.",
      workers.map((w) => [worker(w), w.heartbeatAgeMs / 1000]),
    ),
    gauge(
      'kiln_worker_free_bytes',
      'Free bytes where each worker builds (dir="work") and caches (dir="cache").',
      workers.flatMap((w) => [
        ...(w.workFreeBytes === null ? [] : [[{ ...worker(w), dir: 'work' }, w.workFreeBytes] as const]),
        ...(w.cacheFreeBytes === null ? [] : [[{ ...worker(w), dir: 'cache' }, w.cacheFreeBytes] as const]),
      ]),
    ),
    gauge(
      'kiln_worker_memory_free_bytes',
      'Free memory of each worker machine.',
      workers.flatMap((w) => (w.memFreeBytes === null ? [] : [[worker(w), w.memFreeBytes] as const])),
    ),
    gauge('kiln_vulnerability_data_age_seconds', 'Time since vulnerability data was last imported (+Inf: never).', [
      [{}, Number.isNaN(imported) ? Number.POSITIVE_INFINITY : Math.max(0, now - imported) / 1000],
    ]),
  ];
}

function gauge(name: string, help: string, rows: readonly (readonly [Labels, number])[]): ScalarFamily {
  return { name, help, type: 'gauge', series: rows.map(([labels, value]) => ({ labels, value })) };
}

/** A counter over fact groups; groups that end up with the same labels are added together. */
function counter(
  name: string,
  help: string,
  groups: readonly FactGroup[],
  rows: (g: FactGroup) => readonly (readonly [Labels, number])[],
): ScalarFamily {
  const sums = new Map<string, { labels: Labels; value: number }>();
  for (const g of groups) {
    for (const [labels, value] of rows(g)) {
      const key = JSON.stringify(labels);
      const seen = sums.get(key);
      if (seen) seen.value += value;
      else sums.set(key, { labels, value });
    }
  }
  return { name, help, type: 'counter', series: [...sums.values()] };
}

/** A histogram over fact groups whose bucket counts are `<prefix>0`, `<prefix>1`, … (one per latency bound). */
function histogram(
  name: string,
  help: string,
  groups: readonly FactGroup[],
  labelsOf: (g: FactGroup) => Labels,
  prefix: string,
  countAndSum: (g: FactGroup) => readonly [number, number],
): HistogramFamily {
  const sums = new Map<string, { labels: Labels; cumulative: number[]; count: number; sum: number }>();
  for (const g of groups) {
    const labels = labelsOf(g);
    const key = JSON.stringify(labels);
    const [count, sum] = countAndSum(g);
    const seen = sums.get(key) ?? { labels, cumulative: LATENCY_BOUNDS_SECONDS.map(() => 0), count: 0, sum: 0 };
    LATENCY_BOUNDS_SECONDS.forEach((_, i) => {
      seen.cumulative[i] = (seen.cumulative[i] ?? 0) + (g.counts[`${prefix}${i}`] ?? 0);
    });
    seen.count += count;
    seen.sum += sum;
    sums.set(key, seen);
  }
  return { name, help, type: 'histogram', bounds: LATENCY_BOUNDS_SECONDS, series: [...sums.values()] };
}
