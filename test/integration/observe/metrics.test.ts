// The metrics summed from a real store (SQLite and PostgreSQL): builds, artifacts, queue waits and attempts by
// project, pipeline, branch class and team; the text passes `promtool check metrics`; and what gc and history
// pruning delete stays counted, so no counter ever goes down.
import { spawnSync } from 'node:child_process';
import { beforeEach, describe, expect, it } from 'vitest';
import { renderExposition } from '../../../src/observe/exposition.js';
import { metricFamilies } from '../../../src/observe/metrics.js';
import {
  currentFacts,
  deleteBuilds,
  metricFacts,
  pruneHistory,
  recordBuild,
  type Store,
} from '../../../src/store/index.js';
import { type StoreDialectFactory, storeDialects } from '../../helpers/postgres.js';
import { buildRow } from '../../helpers/store.js';

const DIALECTS = storeDialects();
const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const SLO = { mainBranches: ['main'], releaseBranches: ['release/*', 'v*'] };
const PROJECTS = [{ name: 'shop', team: 'payments' }];

async function build(
  store: Store,
  id: string,
  o: {
    status?: 'succeeded' | 'failed' | 'running';
    seconds: number;
    branch?: string | null;
    ref?: string;
    publishMs?: number;
    hits?: number;
    misses?: number;
    evidence?: string[];
    findings?: Record<string, number>;
    steps?: { name: string; status: 'succeeded' | 'failed' | 'cached'; seconds: number; network: boolean }[];
  },
) {
  const status = o.status ?? 'succeeded';
  await recordBuild(store, {
    build: {
      ...buildRow(id, at(0), 'shop-app', o.seconds * 1000),
      status,
      finished_at: at(o.seconds * 1000),
      branch: o.branch === undefined ? 'main' : o.branch,
      job_project: 'shop',
      job_ref: o.ref ?? o.branch ?? 'main',
      publish_ms: o.publishMs ?? null,
      cache_hits: o.hits ?? 0,
      cache_misses: o.misses ?? 0,
      findings: o.findings ? JSON.stringify(o.findings) : null,
    },
    steps: (o.steps ?? []).map((s, position) => ({
      build_id: id,
      name: s.name,
      status: s.status,
      exit_code: s.status === 'failed' ? 1 : 0,
      duration_ms: s.seconds * 1000,
      log_path: null,
      position,
      network: s.network ? 1 : 0,
    })),
    artifacts: o.evidence
      ? [
          {
            build_id: id,
            name: 'app',
            digest: `sha256:${'1'.repeat(64)}`,
            size: 1,
            path: 'app.tgz',
            manifest_digest: `sha256:${'2'.repeat(64)}`,
          },
        ]
      : [],
    evidence: (o.evidence ?? []).map((kind) => ({
      build_id: id,
      artifact_name: 'app',
      kind: kind as never,
      media_type: 'application/json',
      digest: `sha256:${'3'.repeat(64)}`,
      path: `app.${kind}`,
      manifest_digest: `sha256:${'4'.repeat(64)}`,
    })),
  });
}

async function job(store: Store, id: string, seq: number, attempts: { startedAfterMs: number; outcome: string }[]) {
  await store.db
    .insertInto('jobs')
    .values({
      id,
      seq,
      project: 'shop',
      commit_sha: 'c'.repeat(40),
      branch: 'main',
      priority: 'high',
      labels: '{}',
      payload: '{"ref":"main"}',
      force: 0,
      supersedable: 0,
      max_attempts: 3,
      state: 'succeeded',
      attempt: attempts.length,
      submitted_at: at(0),
      available_at: at(0),
      worker_id: null,
      leased_at: at(attempts.at(-1)?.startedAfterMs ?? 0),
      lease_until: null,
      superseded_by: null,
      build_id: null,
      ended_at: at(300_000),
      attempts: JSON.stringify(
        attempts.map((a, i) => ({
          attempt: i + 1,
          workerId: 'w',
          startedAt: T0 + a.startedAfterMs,
          endedAt: T0 + a.startedAfterMs + 1,
          outcome: a.outcome,
          buildId: null,
        })),
      ),
    } as never)
    .execute();
}

async function exposition(store: Store): Promise<string> {
  const [facts, current] = await Promise.all([metricFacts(store), currentFacts(store)]);
  return renderExposition(metricFamilies({ facts, current, workers: [], projects: PROJECTS, slo: SLO, now: T0 }));
}

/** The value of every sample line, by its name and labels. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    const value = line.slice(i + 1);
    out.set(line.slice(0, i), value === '+Inf' ? Number.POSITIVE_INFINITY : Number(value));
  }
  return out;
}

const MAIN = 'project="shop",pipeline="shop-app",branch_class="main",team="payments"';
const RELEASE = 'project="shop",pipeline="shop-app",branch_class="release",team="payments"';
const QUEUE = 'project="shop",branch_class="main",team="payments",priority="high"';

describe.each(DIALECTS)('metrics from the store ($name)', (dialect) => {
  let store: Store;
  beforeEach(async () => {
    store = await dialect.fresh();
    return () => store.close();
  });

  async function seed(into: Store = store) {
    const store = into;
    const deps = (status: 'succeeded' | 'failed' | 'cached', seconds: number) => ({
      name: 'deps',
      status,
      seconds,
      network: true,
    });
    const compile = { name: 'compile', status: 'succeeded' as const, seconds: 20, network: false };
    await build(store, 'b1', {
      seconds: 30,
      publishMs: 5_000,
      hits: 3,
      misses: 1,
      evidence: ['provenance', 'sbom', 'vulns-attestation'],
      findings: { critical: 1, high: 2, medium: 0, low: 0, unknown: 0 },
      steps: [deps('succeeded', 8), compile],
    });
    await build(store, 'b2', { status: 'failed', seconds: 700, hits: 0, misses: 2, steps: [deps('failed', 400)] });
    await build(store, 'b3', {
      seconds: 100,
      branch: null,
      ref: 'v1.2.0',
      publishMs: 150_000,
      evidence: ['provenance'],
      findings: { critical: 0, high: 0, medium: 0, low: 3, unknown: 0 }, // the latest scanned build: these count
      steps: [deps('cached', 0)],
    });
    await build(store, 'b4', { status: 'running', seconds: 0 });
    await job(store, 'j1', 1, [
      { startedAfterMs: 90_000, outcome: 'infra' },
      { startedAfterMs: 200_000, outcome: 'succeeded' },
    ]);
    await job(store, 'j2', 2, [{ startedAfterMs: 1_500, outcome: 'succeeded' }]);
  }

  it('sums ended builds, artifacts, queue waits and attempts by project, pipeline, branch class and team', async () => {
    await seed();
    const text = await exposition(store);
    const s = samples(text);
    expect(s.get(`kiln_builds_total{${MAIN},status="succeeded"}`)).toBe(1);
    expect(s.get(`kiln_builds_total{${MAIN},status="failed"}`)).toBe(1);
    expect(s.get(`kiln_builds_total{${RELEASE},status="succeeded"}`)).toBe(1); // the tag v1.2.0 is a release
    expect([...s.keys()].some((k) => k.includes('running'))).toBe(false);
    // Duration: 30 s and 700 s on main; the bucket at 600 s holds one of the two.
    expect(s.get(`kiln_build_duration_seconds_bucket{${MAIN},le="600"}`)).toBe(1);
    expect(s.get(`kiln_build_duration_seconds_bucket{${MAIN},le="900"}`)).toBe(2);
    expect(s.get(`kiln_build_duration_seconds_sum{${MAIN}}`)).toBe(730);
    expect(s.get(`kiln_build_duration_seconds_count{${MAIN}}`)).toBe(2);
    // Publish time (M3) only for builds that published: 5 s on main, 150 s for the tag.
    expect(s.get(`kiln_artifact_publish_seconds_count{${MAIN}}`)).toBe(1);
    expect(s.get(`kiln_artifact_publish_seconds_bucket{${MAIN},le="5"}`)).toBe(1);
    expect(s.get(`kiln_artifact_publish_seconds_bucket{${RELEASE},le="120"}`)).toBe(0);
    expect(s.get(`kiln_artifact_publish_seconds_bucket{${RELEASE},le="180"}`)).toBe(1);
    expect(s.get(`kiln_cache_lookups_total{${MAIN},result="hit"}`)).toBe(3);
    expect(s.get(`kiln_cache_lookups_total{${MAIN},result="miss"}`)).toBe(3);
    // Evidence coverage: the main artifact has everything, the release one only its provenance.
    expect(s.get(`kiln_artifacts_total{${RELEASE}}`)).toBe(1);
    expect(s.get(`kiln_artifacts_signed_total{${RELEASE}}`)).toBe(1);
    expect(s.get(`kiln_artifacts_sbom_total{${RELEASE}}`)).toBe(0);
    expect(s.get(`kiln_artifacts_scanned_total{${RELEASE}}`)).toBe(0);
    expect(s.get(`kiln_artifacts_scanned_total{${MAIN}}`)).toBe(1);
    // Queue wait is to the first start: 90 s and 1.5 s.
    expect(s.get(`kiln_queue_wait_seconds_count{${QUEUE}}`)).toBe(2);
    expect(s.get(`kiln_queue_wait_seconds_sum{${QUEUE}}`)).toBe(91.5);
    expect(s.get(`kiln_queue_wait_seconds_bucket{${QUEUE},le="2"}`)).toBe(1);
    expect(s.get(`kiln_queue_wait_seconds_bucket{${QUEUE},le="120"}`)).toBe(2);
    expect(s.get(`kiln_build_runs_total{${QUEUE},outcome="infra"}`)).toBe(1);
    expect(s.get(`kiln_build_runs_total{${QUEUE},outcome="succeeded"}`)).toBe(2);
    expect(s.get('kiln_vulnerability_data_age_seconds')).toBe(Number.POSITIVE_INFINITY);
    // Dependency steps that ran (a cached one fetched nothing): 8 s succeeded, 400 s failed.
    expect(s.get(`kiln_dependency_step_duration_seconds_count{${MAIN}}`)).toBe(2);
    expect(s.get(`kiln_dependency_step_duration_seconds_bucket{${MAIN},le="10"}`)).toBe(1);
    expect(s.get(`kiln_dependency_step_duration_seconds_sum{${MAIN}}`)).toBe(408);
    expect(s.get(`kiln_dependency_step_failures_total{${MAIN}}`)).toBe(1);
    expect(s.has(`kiln_dependency_step_duration_seconds_count{${RELEASE}}`)).toBe(false);
    // The latest scanned build's findings (b3, which finished after b1).
    const LATEST = 'project="shop",pipeline="shop-app",team="payments"';
    expect(s.get(`kiln_vulnerability_findings{${LATEST},severity="low"}`)).toBe(3);
    expect(s.get(`kiln_vulnerability_findings{${LATEST},severity="critical"}`)).toBe(0);

    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.error).toBeUndefined();
    expect(`${check.stdout}${check.stderr}`).toBe('');
    expect(check.status).toBe(0);
  });

  it('keeps counting what gc and history pruning delete, whether or not a scrape counted it first', async () => {
    await seed();
    const reference = samples(await exposition(store)); // every row counted by this scrape
    const other = await dialect.fresh();
    try {
      await seed(other);
      // Deleted before any scrape counted them (a CLI user's `kiln gc`): counted by the deletion itself.
      expect(await deleteBuilds(other, ['b1', 'b2', 'b3'])).toHaveLength(3);
      expect((await pruneHistory(other, at(400_000))).jobs).toBe(2);
      const counted = [...reference].filter(([k]) => !k.startsWith('kiln_queue_depth'));
      const late = samples(await exposition(other));
      for (const [key, value] of counted) expect([key, late.get(key)]).toEqual([key, value]);
    } finally {
      await other.close();
    }
    const before = reference;
    expect(await deleteBuilds(store, ['b1', 'b2', 'b3'])).toHaveLength(3);
    const pruned = await pruneHistory(store, at(400_000));
    expect(pruned.jobs).toBe(2);
    const after = samples(await exposition(store));
    const counted = [...before].filter(
      ([k]) => !k.startsWith('kiln_queue_depth') && !k.startsWith('kiln_vulnerability'),
    );
    expect(counted.length).toBeGreaterThan(30);
    for (const [key, value] of counted) expect([key, after.get(key)]).toEqual([key, value]);

    // New facts add to the folded ones, and a second fold adds again (the offsets are sums, not copies).
    await build(store, 'b5', { status: 'failed', seconds: 10 });
    await build(store, 'b6', { status: 'failed', seconds: 10 });
    expect(await deleteBuilds(store, ['b5'])).toEqual(['b5']);
    const later = samples(await exposition(store));
    expect(later.get(`kiln_builds_total{${MAIN},status="failed"}`)).toBe(3);
    expect(later.get(`kiln_builds_total{${MAIN},status="succeeded"}`)).toBe(1);
  });
});

describe('metrics read by two replicas at once (PostgreSQL)', () => {
  const pg = DIALECTS.find((d) => d.name === 'PostgreSQL') as StoreDialectFactory;
  it('counts each build and job exactly once, whichever replica scrapes', async () => {
    const location = await pg.location();
    const [a, b] = [await pg.open(location), await pg.open(location)];
    try {
      for (let i = 0; i < 40; i++)
        await build(a, `r${i}`, { status: i % 4 === 0 ? 'failed' : 'succeeded', seconds: 5 });
      await job(a, 'j1', 1, [{ startedAfterMs: 1_000, outcome: 'succeeded' }]);
      const [x, y, z] = await Promise.all([exposition(a), exposition(b), exposition(a)]);
      const s = samples(x);
      expect(s.get(`kiln_builds_total{${MAIN},status="succeeded"}`)).toBe(30);
      expect(s.get(`kiln_builds_total{${MAIN},status="failed"}`)).toBe(10);
      expect(s.get(`kiln_queue_wait_seconds_count{${QUEUE}}`)).toBe(1);
      expect(samples(y)).toEqual(s);
      expect(samples(z)).toEqual(s);
      expect(samples(await exposition(b))).toEqual(s);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
