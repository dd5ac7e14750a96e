// The facts the metrics are made of: ended builds, their artifacts, jobs' queue waits and attempts, each grouped by
// what labels them (project, pipeline, branch or ref, …). They are kept as running sums in `metric_sums`: each scrape
// first counts the builds that ended and the jobs that started or ended since the last one (claimed once per row, in
// one transaction under the queue's lock, whichever replica scrapes), then reads the sums. So a scrape costs what is
// new, not the whole history, the sums never go down when gc or history pruning deletes rows, and no replica or
// restart resets or doubles them.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { LATENCY_BOUNDS_SECONDS } from '../core/latency.js';
import { inJobsTransaction, type JobsTx } from './jobs.js';
import type { KilnDatabase } from './schema.js';
import type { Store, StoreDialect } from './store.js';

/** The kinds of fact, each summed over its own rows. */
export type FactKind = 'builds' | 'artifacts' | 'depsteps' | 'queue' | 'attempts' | 'findings';

/** One group of facts: what tells it apart (`dims`), and its sums (`counts`; histogram buckets as `le0`, `le1`, …). */
export interface FactGroup {
  readonly dims: Readonly<Record<string, string | null>>;
  readonly counts: Readonly<Record<string, number>>;
}

/**
 * Every fact group of the store. `findings` is no sum: per project and pipeline, the findings by severity of its
 * latest succeeded build that was scanned (`at`: when it finished, epoch ms).
 */
export type MetricFacts = Readonly<Record<FactKind, readonly FactGroup[]>>;

/** The kinds that are sums over rows (the findings are the latest build's, kept by keepLatestFindings). */
type SummedKind = Exclude<FactKind, 'findings'>;

/** Which rows to sum. */
type Only = { readonly builds: readonly string[] } | { readonly jobs: readonly string[] };

/** Rows counted per transaction. */
const BATCH = 2000;

/** The terminal job states (farm/job.ts): a job in one has all its attempts. */
const ENDED_JOB = ['succeeded', 'failed', 'blocked', 'cancelled', 'lost'] as const;

/** Counts what is new, then reads every sum. */
export async function metricFacts(store: Store): Promise<MetricFacts> {
  await countNewFacts(store);
  const rows = await store.db.selectFrom('metric_sums').selectAll().execute();
  const all: Record<FactKind, FactGroup[]> = {
    builds: [],
    artifacts: [],
    depsteps: [],
    queue: [],
    attempts: [],
    findings: [],
  };
  for (const row of rows) {
    const kind = row.kind as FactKind;
    if (kind in all) all[kind].push({ dims: JSON.parse(row.dims), counts: JSON.parse(row.counts) });
  }
  return all;
}

/** Adds to the sums every ended build and every started or ended job not counted yet, a batch per transaction. */
async function countNewFacts(store: Store): Promise<void> {
  for (;;) {
    const counted = await inJobsTransaction(store, async (tx) => {
      const builds = await claimBuilds(tx, { limit: BATCH });
      const jobs = await claimJobs(tx, { limit: BATCH });
      await addFacts(tx, store.dialect, builds, jobs);
      return builds.length + jobs.started.length + jobs.ended.length;
    });
    if (counted === 0) return;
  }
}

/** Before builds are deleted (gc): counts those not counted yet, in `tx` (the deleting transaction). */
export async function countBuildsBeforeDelete(tx: JobsTx, dialect: StoreDialect, ids: readonly string[]) {
  if (ids.length === 0) return;
  const builds = await claimBuilds(tx, { ids });
  await addFacts(tx, dialect, builds, { started: [], ended: [] });
}

/** Before jobs are deleted (history pruning): counts what of them is not counted yet, in `tx`. */
export async function countJobsBeforeDelete(tx: JobsTx, dialect: StoreDialect, ids: readonly string[]) {
  if (ids.length === 0) return;
  const jobs = await claimJobs(tx, { ids });
  await addFacts(tx, dialect, [], jobs);
}

/** Which rows a claim looks at: these ids, or the first `limit` not counted. */
type Among = { readonly ids: readonly string[] } | { readonly limit: number };

/** Marks ended builds counted; returns the ids this transaction marked (another replica's are not returned twice). */
async function claimBuilds(tx: JobsTx, among: Among): Promise<string[]> {
  let query = tx.selectFrom('builds').select('id').where('counted', '=', 0).where('status', '<>', 'running');
  query = 'ids' in among ? query.where('id', 'in', among.ids) : query.limit(among.limit);
  const candidates = await query.execute();
  if (candidates.length === 0) return [];
  const ids = candidates.map((c) => c.id);
  const marked = await tx
    .updateTable('builds')
    .set({ counted: 1 })
    .where('id', 'in', ids)
    .where('counted', '=', 0)
    .returning('id')
    .execute();
  return marked.map((m) => m.id);
}

/**
 * Marks jobs counted: a started job's queue wait (counted 0 → 1), an ended job's attempts (→ 2). Returns the ids whose
 * wait and whose attempts this transaction counts.
 */
async function claimJobs(tx: JobsTx, among: Among): Promise<{ started: string[]; ended: string[] }> {
  // Two lookups of the (counted, state) index: started but uncounted, and ended but not fully counted.
  const look = (counted: readonly number[], ended: boolean) => {
    let query = tx.selectFrom('jobs').select(['id', 'counted', 'attempt', 'state']).where('counted', 'in', counted);
    query = ended ? query.where('state', 'in', [...ENDED_JOB]) : query.where('attempt', '>', 0);
    return ('ids' in among ? query.where('id', 'in', among.ids) : query.limit(among.limit)).execute();
  };
  const byId = new Map((await look([0], false)).map((c) => [c.id, c]));
  for (const c of await look([0, 1], true)) byId.set(c.id, c);
  const candidates = [...byId.values()];
  const started: string[] = [];
  const ended: string[] = [];
  // One UPDATE per change (0 → 1, 0 → 2, 1 → 2); a row another transaction counted meanwhile is not returned.
  for (const [from, to] of [
    [0, 1],
    [0, 2],
    [1, 2],
  ] as const) {
    const ids = candidates
      .filter((c) => Number(c.counted) === from && ((ENDED_JOB as readonly string[]).includes(c.state) ? 2 : 1) === to)
      .map((c) => c.id);
    if (ids.length === 0) continue;
    const marked = await tx
      .updateTable('jobs')
      .set({ counted: to })
      .where('id', 'in', ids)
      .where('counted', '=', from)
      .returning(['id', 'attempt'])
      .execute();
    for (const m of marked) {
      if (from === 0 && Number(m.attempt) > 0) started.push(m.id);
      if (to === 2) ended.push(m.id);
    }
  }
  return { started, ended };
}

/** Sums the claimed rows and adds them to `metric_sums`. */
async function addFacts(
  tx: JobsTx,
  dialect: StoreDialect,
  builds: readonly string[],
  jobs: { readonly started: readonly string[]; readonly ended: readonly string[] },
): Promise<void> {
  const work: [SummedKind, Only][] = [];
  if (builds.length > 0) {
    work.push(['builds', { builds }], ['artifacts', { builds }], ['depsteps', { builds }]);
    await keepLatestFindings(tx, builds);
  }
  if (jobs.started.length > 0) work.push(['queue', { jobs: jobs.started }]);
  if (jobs.ended.length > 0) work.push(['attempts', { jobs: jobs.ended }]);
  for (const [kind, only] of work) await addSums(tx, kind, await sumFacts(tx, dialect, kind, only));
}

/** For each project and pipeline among `builds`, keeps the findings of its newest scanned build if newer than kept. */
async function keepLatestFindings(tx: JobsTx, builds: readonly string[]): Promise<void> {
  const rows = await tx
    .selectFrom('builds')
    .select(['project', 'job_project', 'finished_at', 'findings'])
    .where('id', 'in', builds)
    .where('status', '=', 'succeeded')
    .where('findings', 'is not', null)
    .execute();
  const newest = new Map<string, { dims: Record<string, string>; at: number; findings: Record<string, number> }>();
  for (const r of rows) {
    const dims = { pipeline: r.project, project: r.job_project ?? r.project };
    const key = JSON.stringify(sortedDims(dims));
    const at = Date.parse(r.finished_at);
    if ((newest.get(key)?.at ?? -1) < at) newest.set(key, { dims, at, findings: JSON.parse(r.findings ?? '{}') });
  }
  for (const [dims, n] of newest) {
    const old = await tx
      .selectFrom('metric_sums')
      .select('counts')
      .where('kind', '=', 'findings')
      .where('dims', '=', dims)
      .executeTakeFirst();
    if (old && (JSON.parse(old.counts).at ?? 0) >= n.at) continue;
    const counts = JSON.stringify({ ...n.findings, at: n.at });
    await tx
      .insertInto('metric_sums')
      .values({ kind: 'findings', dims, counts })
      .onConflict((oc) => oc.columns(['kind', 'dims']).doUpdateSet({ counts }))
      .execute();
  }
}

/**
 * The histogram bounds (ms) every sum uses, for build duration, publish time, queue wait and dependency steps. They
 * are fixed: what was summed into these buckets stays in them, so a bound that changed would no longer add up.
 */
const BOUNDS_MS: readonly number[] = LATENCY_BOUNDS_SECONDS.map((s) => s * 1000);

async function addSums(db: Kysely<KilnDatabase>, kind: FactKind, groups: readonly FactGroup[]): Promise<void> {
  for (const g of groups) {
    const dims = JSON.stringify(sortedDims(g.dims));
    const old = await db
      .selectFrom('metric_sums')
      .select('counts')
      .where('kind', '=', kind)
      .where('dims', '=', dims)
      .executeTakeFirst();
    const counts = JSON.stringify(old ? addCounts(JSON.parse(old.counts), g.counts) : g.counts);
    await db
      .insertInto('metric_sums')
      .values({ kind, dims, counts })
      .onConflict((oc) => oc.columns(['kind', 'dims']).doUpdateSet({ counts }))
      .execute();
  }
}

function addCounts(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function sortedDims(dims: Readonly<Record<string, string | null>>): Record<string, string | null> {
  return Object.fromEntries(Object.entries(dims).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The columns that tell groups apart, per kind; every other selected column is a sum. */
const DIMS: Readonly<Record<FactKind, readonly string[]>> = {
  builds: ['project', 'pipeline', 'branch', 'ref', 'status'],
  artifacts: ['project', 'pipeline', 'branch', 'ref'],
  depsteps: ['project', 'pipeline', 'branch', 'ref'],
  findings: ['project', 'pipeline'],
  queue: ['project', 'branch', 'ref', 'priority'],
  attempts: ['project', 'branch', 'ref', 'priority', 'outcome'],
};

async function sumFacts(
  db: Kysely<KilnDatabase>,
  dialect: StoreDialect,
  kind: SummedKind,
  only: Only,
): Promise<FactGroup[]> {
  const { rows } = await factQuery(dialect, kind, only).execute(db);
  const dims = DIMS[kind];
  return (rows as Record<string, unknown>[]).map((row) => {
    const d: Record<string, string | null> = {};
    const counts: Record<string, number> = {};
    for (const [k, v] of Object.entries(row)) {
      if (dims.includes(k)) d[k] = v === null || v === undefined ? null : String(v);
      else counts[k] = Number(v ?? 0); // PostgreSQL sums bigints, which node-postgres reads as text
    }
    return { dims: d, counts };
  });
}

/** `sum(case when <expr> <= bound then 1 else 0 end) as <prefix><i>` for every bound. */
function buckets(expr: RawBuilder<unknown>, prefix: string): RawBuilder<unknown>[] {
  return BOUNDS_MS.map(
    (ms, i) => sql`sum(case when ${expr} <= ${sql.lit(ms)} then 1 else 0 end) as ${sql.raw(prefix + i)}`,
  );
}

function restrict(only: Only, column: 'b.id' | 'j.id'): RawBuilder<unknown> {
  const ids = 'builds' in only ? only.builds : only.jobs;
  if (ids.length === 0) return sql`1 = 0`;
  return sql`${sql.ref(column)} in (${sql.join(ids.map((id) => sql`${id}`))})`;
}

/** The ref a farm job or build was queued for, when it built no branch (a tag, a commit): what classes it. */
function jobRef(dialect: StoreDialect): RawBuilder<unknown> {
  return dialect === 'postgres' ? sql`(j.payload::json ->> 'ref')` : sql`json_extract(j.payload, '$.ref')`;
}

/** Milliseconds from a job's submission to its first lease; null before its first. */
function queueWait(dialect: StoreDialect): RawBuilder<unknown> {
  if (dialect === 'postgres') {
    return sql`(coalesce((j.attempts::json -> 0 ->> 'startedAt')::bigint,
      (extract(epoch from j.leased_at::timestamptz) * 1000)::bigint)
      - (extract(epoch from j.submitted_at::timestamptz) * 1000)::bigint)`;
  }
  return sql`(coalesce(json_extract(j.attempts, '$[0].startedAt'),
    cast(round((julianday(j.leased_at) - 2440587.5) * 86400000) as integer))
    - cast(round((julianday(j.submitted_at) - 2440587.5) * 86400000) as integer))`;
}

function factQuery(dialect: StoreDialect, kind: SummedKind, only: Only): RawBuilder<unknown> {
  const buildDims = sql`coalesce(b.job_project, b.project) as project, b.project as pipeline, b.branch as branch,
    case when b.branch is null then b.job_ref end as ref`;
  const onlyBuilds = restrict(only, 'b.id');
  const onlyJobs = restrict(only, 'j.id');
  switch (kind) {
    case 'builds':
      return sql`select ${buildDims}, b.status as status, count(*) as n, sum(b.duration_ms) as dur_sum,
        ${sql.join(buckets(sql`b.duration_ms`, 'dur_le'))},
        sum(b.cache_hits) as hits, sum(b.cache_misses) as misses, sum(b.bytes_restored) as bytes_restored,
        sum(b.flaky_steps) as flaky_steps,
        sum(case when b.publish_ms is null then 0 else 1 end) as pub_n, sum(coalesce(b.publish_ms, 0)) as pub_sum,
        ${sql.join(buckets(sql`b.publish_ms`, 'pub_le'))}
        from builds b where b.status <> 'running' and ${onlyBuilds}
        group by 1, 2, 3, 4, 5`;
    case 'artifacts': {
      const has = (kinds: readonly string[]) =>
        sql`sum(case when exists (select 1 from evidence e where e.build_id = a.build_id
          and e.artifact_name = a.name and e.kind in (${sql.join(kinds.map((k) => sql.lit(k)))})) then 1 else 0 end)`;
      return sql`select ${buildDims}, count(*) as n, ${has(['provenance'])} as signed,
        ${has(['sbom', 'spdx'])} as with_sbom, ${has(['vulns-attestation'])} as scanned
        from artifacts a join builds b on b.id = a.build_id where b.status = 'succeeded' and ${onlyBuilds}
        group by 1, 2, 3, 4`;
    }
    case 'depsteps':
      return sql`select ${buildDims}, count(*) as n, sum(s.duration_ms) as dur_sum,
        ${sql.join(buckets(sql`s.duration_ms`, 'dur_le'))},
        sum(case when s.status = 'failed' then 1 else 0 end) as failed
        from steps s join builds b on b.id = s.build_id
        where s.network = 1 and s.status in ('succeeded', 'failed') and ${onlyBuilds}
        group by 1, 2, 3, 4`;
    case 'queue':
      return sql`select q.project as project, q.branch as branch, q.ref as ref, q.priority as priority, count(*) as n,
        sum(q.ms) as wait_sum, ${sql.join(buckets(sql`q.ms`, 'wait_le'))}
        from (select j.project as project, j.branch as branch, case when j.branch is null then ${jobRef(dialect)} end as ref,
          j.priority as priority, ${queueWait(dialect)} as ms from jobs j where j.attempt > 0 and ${onlyJobs}) q
        where q.ms is not null
        group by 1, 2, 3, 4`;
    case 'attempts': {
      const each =
        dialect === 'postgres'
          ? sql`cross join lateral json_array_elements(j.attempts::json) a(value)`
          : sql`cross join json_each(j.attempts) a`;
      const outcome = dialect === 'postgres' ? sql`a.value ->> 'outcome'` : sql`json_extract(a.value, '$.outcome')`;
      return sql`select j.project as project, j.branch as branch, case when j.branch is null then ${jobRef(dialect)} end as ref,
        j.priority as priority, ${outcome} as outcome, count(*) as n
        from jobs j ${each} where ${onlyJobs}
        group by 1, 2, 3, 4, 5`;
    }
  }
}

/** What the store says now, besides the sums: the queue per priority class, and the vulnerability data's last import. */
export interface CurrentFacts {
  readonly queued: readonly { readonly priority: string; readonly depth: number; readonly oldestSubmittedAt: string }[];
  /** RFC 3339; null when no data was ever imported. */
  readonly lastOsvImportAt: string | null;
}

/** The queue's depth and oldest submission per priority class, and when vulnerability data was last imported. */
export async function currentFacts(store: Store): Promise<CurrentFacts> {
  const [queued, osv] = await Promise.all([
    store.db
      .selectFrom('jobs')
      .select((eb) => [
        'priority',
        eb.fn.countAll<number | string>().as('depth'),
        eb.fn.min('submitted_at').as('oldest'),
      ])
      .where('state', '=', 'queued')
      .groupBy('priority')
      .orderBy('priority')
      .execute(),
    store.db
      .selectFrom('osv_imports')
      .select((eb) => eb.fn.max('imported_at').as('last'))
      .executeTakeFirst(),
  ]);
  return {
    queued: queued.map((q) => ({ priority: q.priority, depth: Number(q.depth), oldestSubmittedAt: q.oldest })),
    lastOsvImportAt: osv?.last ?? null,
  };
}
