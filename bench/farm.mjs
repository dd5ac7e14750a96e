#!/usr/bin/env node
// Benchmark (never a test): many builds of a trivial project through `kiln serve` and its workers, with 1, 2 and 4
// workers, in-process and as `kiln worker` processes (on the SQLite store of one home, or on PostgreSQL with a home
// per worker, as on separate machines). Prints throughput, queue wait, dispatch overhead and lost builds; with
// --kill-every, a worker is killed with SIGKILL that often and replaced. Usage: bench/README.md.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GIT_ENV } from './gen-monorepo.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const MODES = ['embedded', 'sqlite-workers', 'postgres'];
const { values: args } = parseArgs({
  options: {
    builds: { type: 'string', default: '1000' },
    workers: { type: 'string', default: '1,2,4' },
    modes: { type: 'string', default: MODES.join(',') },
    database: { type: 'string' },
    'kill-every': { type: 'string', default: '0' },
    kiln: { type: 'string', default: join(BENCH, '..', 'bin', 'kiln.js') },
    keep: { type: 'boolean', default: false },
  },
});
const builds = Number(args.builds);
const counts = args.workers.split(',').map(Number);
const modes = args.modes.split(',');
const killEvery = Number(args['kill-every']) * 1000;
if (!Number.isInteger(builds) || builds < 1 || counts.some((n) => !Number.isInteger(n) || n < 1)) {
  throw new Error(`bad --builds ${args.builds} or --workers ${args.workers}`);
}
if (modes.some((m) => !MODES.includes(m))) throw new Error(`--modes is a list of ${MODES.join(', ')}`);
const kilnBin = resolve(args.kiln);
const work = mkdtempSync(join(tmpdir(), 'kiln-farm-bench-'));
const children = new Set();
const cleanups = []; // run at exit before the work directory goes (the PostgreSQL server lives in it)
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  for (const cleanup of cleanups) cleanup();
  if (!args.keep) rmSync(work, { recursive: true, force: true });
});

/** A trivial project: one step writing one file, packaged as one artifact. */
function makeRepo(dir) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'kiln.yaml'),
    [
      'name: app',
      'steps:',
      '  build:',
      '    run: mkdir -p out && echo hello > out/hello.txt',
      '    outputs: [out]',
      'artifacts:',
      '  - name: hello',
      '    from: build',
      '    path: out',
      '',
    ].join('\n'),
  );
  const git = (...a) => execFileSync('git', a, { cwd: dir, env: GIT_ENV, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'farm bench');
  return git('rev-parse', 'HEAD');
}

function start(argv, env, label) {
  const child = spawn(process.execPath, [kilnBin, ...argv], { env: { ...process.env, ...env } });
  children.add(child);
  let out = '';
  child.stdout.on('data', (c) => {
    out = (out + c).slice(-20_000);
  });
  child.stderr.on('data', (c) => {
    out = (out + c).slice(-20_000);
  });
  child.on('exit', () => children.delete(child));
  const ready = (pattern) =>
    new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`${label}: not ready in 60 s:\n${out}`)), 60_000);
      const check = () => {
        const m = pattern.exec(out);
        if (m) {
          clearTimeout(timer);
          done(m);
        }
      };
      child.stdout.on('data', check);
      child.stderr.on('data', check);
      child.on('exit', (code) => fail(new Error(`${label} exited ${code}:\n${out}`)));
    });
  return { child, ready, output: () => out };
}

const kilnSync = (argv, env) =>
  execFileSync(process.execPath, [kilnBin, ...argv], { env: { ...process.env, ...env }, encoding: 'utf8' }).trim();

async function api(url, token, path, body) {
  const r = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (r.status >= 300) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** Throwaway PostgreSQL on 127.0.0.1 (the Debian 15 binaries; as root they run as the postgres user). */
async function startPostgres() {
  const bin = '/usr/lib/postgresql/15/bin';
  if (!existsSync(join(bin, 'initdb')))
    throw new Error(`no PostgreSQL at ${bin}: install postgresql-15 or pass --database`);
  const dir = join(work, 'pg');
  mkdirSync(dir);
  chmodSync(work, 0o755); // the postgres user must reach its directory
  chmodSync(dir, 0o755);
  const asPg = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  if (asPg.length > 0) execFileSync('chown', ['postgres', dir]);
  const run = (cmd, ...a) => execFileSync(asPg[0] ?? cmd, [...asPg.slice(1), ...(asPg.length ? [cmd] : []), ...a]);
  run(join(bin, 'initdb'), '-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C');
  const port = await new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = s.address();
      s.close(() => done(p));
    });
  });
  // -l: the server's output goes to a file, not to the pipe this call waits on.
  run(
    join(bin, 'pg_ctl'),
    '-D',
    join(dir, 'data'),
    '-l',
    join(dir, 'log'),
    '-o',
    `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir}`,
    '-w',
    'start',
  );
  cleanups.push(() => {
    try {
      run(join(bin, 'pg_ctl'), '-D', join(dir, 'data'), '-m', 'immediate', 'stop');
    } catch {}
  });
  return `postgres://postgres@127.0.0.1:${port}/postgres`;
}

async function runCase(mode, count, database) {
  const dir = mkdtempSync(join(work, `${mode}-${count}-`));
  const repo = join(dir, 'repo');
  const commit = makeRepo(repo);
  const config = join(dir, 'kiln-server.yaml');
  writeFileSync(
    config,
    [
      `concurrency: ${count}`,
      'leaseSeconds: 6',
      'projects:',
      '  - name: app',
      `    repository: file://${repo}`,
      `    concurrency: ${count}`,
      '',
    ].join('\n'),
  );
  const home = join(dir, 'home');
  const db = mode === 'postgres' ? { KILN_DATABASE: database } : {};
  if (mode === 'postgres') {
    // One database per case: a fresh store.
    const name = `farm_${mode.replace('-', '_')}_${count}_${Date.now()}`;
    execFileSync('psql', [database, '-qc', `create database ${name}`]);
    db.KILN_DATABASE = database.replace(/\/[^/]*$/, `/${name}`);
  }
  const env = { KILN_HOME: home, KILN_SIGNING_KEY: '', ...db };
  const token = kilnSync(['tokens', 'create', '--scope', 'trigger'], env);
  const inProcess = mode === 'embedded' ? count : 0;
  const server = start(
    ['serve', '--listen', '127.0.0.1:0', '--config', config, '--workers', String(inProcess)],
    env,
    'kiln serve',
  );
  const [, url] = await server.ready(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
  // Queue every build first: the workers then always have work, and the figures measure the farm, not submission.
  const ids = [];
  const submitStart = Date.now();
  for (let i = 0; i < builds; i++) {
    ids.push((await api(url, token, '/v1/builds', { project: 'app', ref: commit, force: true })).id);
  }
  const submitMs = Date.now() - submitStart;
  const workers = [];
  const workerEnv = (i) => (mode === 'postgres' ? { ...env, KILN_HOME: join(dir, `worker-home-${i}`) } : env);
  let started = 0;
  const startWorker = async () => {
    const w = start(['worker'], workerEnv(started++), 'kiln worker');
    await w.ready(/building on \d+ worker/);
    workers.push(w);
  };
  if (mode !== 'embedded') await Promise.all(Array.from({ length: count }, startWorker));
  let kills = 0;
  const killer =
    killEvery > 0 && mode !== 'embedded'
      ? setInterval(() => {
          const victim = workers.shift();
          if (!victim) return;
          victim.child.kill('SIGKILL');
          kills++;
          startWorker().catch((err) => console.error(err.message));
        }, killEvery)
      : undefined;
  const t0 = Date.now();
  let jobs = [];
  for (;;) {
    const { classes, running } = await api(url, token, '/v1/queue');
    const queued = classes.reduce((n, c) => n + c.depth, 0);
    if (queued + running === 0) break;
    if (process.stderr.isTTY)
      process.stderr.write(`\r  ${mode} ×${count}: ${builds - queued - running}/${builds} ended   `);
    await new Promise((r) => setTimeout(r, 1_000));
  }
  const wallMs = Date.now() - t0; // after submission, until the queue was empty
  clearInterval(killer);
  if (process.stderr.isTTY) process.stderr.write('\n');
  jobs = await Promise.all(ids.map((id) => api(url, token, `/v1/builds/${id}`)));
  server.child.kill('SIGTERM');
  for (const w of workers) w.child.kill('SIGTERM');

  // Throughput over the time builds ran: from the first attempt's start to the last one's end.
  const attempts = jobs.flatMap((j) => j.attempts);
  const spanMs =
    Math.max(...attempts.map((a) => Date.parse(a.endedAt))) - Math.min(...attempts.map((a) => Date.parse(a.startedAt)));
  const byState = {};
  for (const j of jobs) byState[j.status] = (byState[j.status] ?? 0) + 1;
  const waits = [];
  const dispatch = [];
  const byWorker = new Map();
  for (const j of jobs) {
    const first = j.attempts[0];
    if (first) waits.push(Date.parse(first.startedAt) - Date.parse(j.submittedAt));
    for (const a of j.attempts) {
      const list = byWorker.get(a.worker) ?? [];
      list.push({ ...a, submittedAt: Date.parse(j.submittedAt) });
      byWorker.set(a.worker, list);
    }
  }
  // Dispatch overhead: how long a queued job waited while a worker was free for it, i.e. from the later of its
  // submission and the end of that worker's previous attempt, to its start (a worker's first attempt is left out).
  for (const list of byWorker.values()) {
    list.sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
    for (let i = 1; i < list.length; i++) {
      const a = list[i];
      const free = Math.max(a.submittedAt, Date.parse(list[i - 1].endedAt));
      dispatch.push(Date.parse(a.startedAt) - free);
    }
  }
  return {
    mode,
    workers: count,
    builds,
    submitMs,
    wallMs,
    throughput: (builds / spanMs) * 60_000,
    waitP50: pct(waits, 50),
    waitP95: pct(waits, 95),
    dispatchP50: pct(dispatch, 50),
    dispatchP95: pct(dispatch, 95),
    kills,
    lost: (byState.lost ?? 0) + jobs.filter((j) => ['queued', 'running'].includes(j.status)).length,
    states: byState,
    lostAttempts: jobs.reduce((n, j) => n + j.attempts.filter((a) => a.outcome === 'lost').length, 0),
  };
}

const database = modes.includes('postgres') ? (args.database ?? (await startPostgres())) : undefined;
console.log(
  `farm bench: ${builds} builds per case; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const results = [];
for (const count of counts) for (const mode of modes) results.push(await runCase(mode, count, database));
const s = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
console.log(
  '\n| mode | workers | builds/min | queue wait p50 / p95 | dispatch p50 / p95 | killed | lost attempts | lost builds | ended |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  console.log(
    `| ${r.mode} | ${r.workers} | ${r.throughput.toFixed(1)} | ${s(r.waitP50)} / ${s(r.waitP95)} | ${s(r.dispatchP50)} / ${s(r.dispatchP95)} | ${r.kills} | ${r.lostAttempts} | ${r.lost} | ${JSON.stringify(r.states)} |`,
  );
}
const base = results.filter((r) => r.mode === 'embedded');
for (const r of results.filter((x) => x.mode !== 'embedded')) {
  const peer = base.find((b) => b.workers === r.workers);
  if (peer)
    console.log(
      `throughput ${r.mode}/embedded at ${r.workers} worker(s): ${(r.throughput / peer.throughput).toFixed(2)}×`,
    );
}
console.log(
  `load average after: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
