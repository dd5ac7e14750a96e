#!/usr/bin/env node
// Benchmark (never a test): one /metrics scrape (kiln.metrics(), what GET /metrics answers) over a store holding N
// recorded builds (each with an artifact and its evidence) and N farm jobs, against a peer measured in the same run:
// one bare scan of the same tables (`select count(*)` of builds, artifacts and jobs), the floor of any query that reads
// them all. The first scrape counts the whole history into the running sums once; the timed ones count what is new
// (nothing here) and read the sums, as a server scraped every 15 s does. Usage: node metrics-scrape.mjs [--builds 100000] [--runs 5] [--database postgres://…]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { createKiln, embeddedPorts } from '../dist/app/index.js';
import { openStore } from '../dist/store/index.js';

const { values: args } = parseArgs({
  options: {
    builds: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '5' },
    database: { type: 'string' },
  },
});
const n = Number(args.builds);
const runs = Number(args.runs);
const home = mkdtempSync(join(tmpdir(), 'kiln-metrics-bench-'));
const location = args.database ?? join(home, 'store.db');
const store = await openStore(location);

/** N builds over 20 projects, 3 branch kinds, mostly succeeded, each with one artifact, its evidence and a job. */
async function seed() {
  const t0 = Date.parse('2026-06-01T00:00:00.000Z');
  const branches = ['main', 'release/1.2', 'feature/x', null];
  const statuses = ['succeeded', 'succeeded', 'succeeded', 'failed', 'blocked'];
  for (let start = 0; start < n; start += 2000) {
    const ids = Array.from({ length: Math.min(2000, n - start) }, (_, k) => start + k);
    await store.db.transaction().execute(async (tx) => {
      const builds = ids.map((i) => ({
        id: `b${i}`,
        project: `app${i % 20}`,
        repo_url: 'file:///repo',
        commit_sha: i.toString(16).padStart(40, '0'),
        subdir: '',
        dirty: 0,
        status: statuses[i % statuses.length],
        exit_code: 0,
        error: null,
        builder_id: 'b',
        runner: 'bubblewrap',
        started_at: new Date(t0 + i * 60_000).toISOString(),
        finished_at: new Date(t0 + i * 60_000 + (i % 900) * 1000).toISOString(),
        duration_ms: (i % 900) * 1000,
        cache_hits: i % 50,
        cache_misses: i % 7,
        branch: branches[i % branches.length],
        job_project: `shop${i % 20}`,
        job_ref: branches[i % branches.length] ?? 'v1.2.3',
        publish_ms: i % 5 === 0 ? null : (i % 200) * 100,
      }));
      for (let k = 0; k < builds.length; k += 250)
        await tx
          .insertInto('builds')
          .values(builds.slice(k, k + 250))
          .execute();
      const ok = ids.filter((i) => statuses[i % statuses.length] === 'succeeded');
      const artifacts = ok.map((i) => ({
        build_id: `b${i}`,
        name: 'app',
        digest: `sha256:${i.toString(16).padStart(64, '0')}`,
        size: 1,
        path: 'app.tgz',
        manifest_digest: `sha256:${i.toString(16).padStart(64, '1')}`,
      }));
      for (let k = 0; k < artifacts.length; k += 250)
        await tx
          .insertInto('artifacts')
          .values(artifacts.slice(k, k + 250))
          .execute();
      const evidence = ok.flatMap((i) =>
        ['provenance', 'sbom', 'spdx', 'vulns-attestation'].map((kind) => ({
          build_id: `b${i}`,
          artifact_name: 'app',
          kind,
          media_type: 'application/json',
          digest: `sha256:${'e'.repeat(64)}`,
          path: `app.${kind}`,
          manifest_digest: `sha256:${'f'.repeat(64)}`,
        })),
      );
      for (let k = 0; k < evidence.length; k += 250)
        await tx
          .insertInto('evidence')
          .values(evidence.slice(k, k + 250))
          .execute();
      const jobs = ids.map((i) => ({
        id: `j${i}`,
        seq: i + 1,
        project: `shop${i % 20}`,
        commit_sha: i.toString(16).padStart(40, '0'),
        branch: branches[i % branches.length],
        priority: i % 3 === 0 ? 'high' : 'normal',
        labels: '{}',
        payload: '{"ref":"main"}',
        force: 0,
        supersedable: 0,
        max_attempts: 3,
        state: 'succeeded',
        attempt: 1,
        submitted_at: new Date(t0 + i * 60_000).toISOString(),
        available_at: new Date(t0 + i * 60_000).toISOString(),
        worker_id: 'w',
        leased_at: new Date(t0 + i * 60_000 + (i % 300) * 1000).toISOString(),
        lease_until: null,
        superseded_by: null,
        build_id: `b${i}`,
        ended_at: new Date(t0 + i * 60_000 + 900_000).toISOString(),
        attempts: JSON.stringify([
          {
            attempt: 1,
            workerId: 'w',
            startedAt: t0 + i * 60_000 + (i % 300) * 1000,
            endedAt: t0 + i * 60_000 + 900_000,
            outcome: i % 97 === 0 ? 'infra' : 'succeeded',
            buildId: `b${i}`,
          },
        ]),
      }));
      for (let k = 0; k < jobs.length; k += 250)
        await tx
          .insertInto('jobs')
          .values(jobs.slice(k, k + 250))
          .execute();
    });
  }
}

const seeded = performance.now();
await seed();
console.log(
  `seeded ${n} builds and jobs in ${((performance.now() - seeded) / 1000).toFixed(1)} s (${args.database ? 'PostgreSQL' : 'SQLite'})`,
);

const ports = embeddedPorts({ home, env: { ...process.env, KILN_HOME: home }, cwd: home, version: 'bench' });
const kiln = createKiln({ ...ports, store: async () => store });
const scrape = async () => {
  const t = performance.now();
  const text = await kiln.metrics(undefined);
  if (!text.includes('kiln_builds_total')) throw new Error('no kiln_builds_total in the scrape');
  return performance.now() - t;
};
const floor = async () => {
  const t = performance.now();
  await Promise.all(
    ['builds', 'artifacts', 'jobs'].map((table) => sql`select count(*) from ${sql.table(table)}`.execute(store.db)),
  );
  return performance.now() - t;
};
const first = await scrape(); // counts every recorded build and job once, as the first scrape after an upgrade does
await floor();
console.log(`first scrape (counts the ${n} builds and jobs into the sums): ${(first / 1000).toFixed(2)} s`);
const pairs = [];
for (let r = 0; r < runs; r++) pairs.push([await scrape(), await floor()]);
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const scrapeMs = med(pairs.map((p) => p[0]));
const floorMs = med(pairs.map((p) => p[1]));
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(
  `scrape ms:     ${pairs.map((p) => p[0].toFixed(1)).join(' ')}  (median ${scrapeMs.toFixed(1)}; target ≤ 50)`,
);
console.log(`bare scan ms:  ${pairs.map((p) => p[1].toFixed(1)).join(' ')}  (median ${floorMs.toFixed(1)})`);
console.log(
  `scrape / bare scan: ${(scrapeMs / floorMs).toFixed(2)}×, pair by pair ${pairs.map((p) => (p[0] / p[1]).toFixed(2)).join(' ')}`,
);
await store.close();
if (!args.database && !process.env.KEEP) rmSync(home, { recursive: true, force: true });
else console.log(location);
