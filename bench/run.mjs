#!/usr/bin/env node
// Benchmark (never a test): Kiln vs Turborepo vs the plain build scripts on generated npm-workspaces monorepos,
// interleaved round-robin. Usage and what each scenario means: bench/README.md.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GIT_ENV, generate } from './gen-monorepo.mjs';
import { printTable, summarize } from './report.mjs';
import { hashTree, turboBinary } from './tools.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const SCENARIOS = ['cold', 'warm', 'replay', 'restore', 'leaf', 'root'];
const TOOLS = ['kiln', 'worker', 'turbo', 'direct'];
// Local cache only (in the repo's .turbo/cache), streamed logs, only failures printed.
const TURBO_ARGS = [
  'run',
  'build',
  '--ui=stream',
  '--output-logs=errors-only',
  '--cache=local:rw',
  '--cache-dir=.turbo/cache',
];

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '50' },
    runs: { type: 'string', default: '3' },
    kiln: { type: 'string', default: join(BENCH, '..', 'bin', 'kiln.js') },
    'kiln-config': { type: 'string', default: 'explicit' },
    work: { type: 'string' },
    json: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const sizes = args.sizes.split(',').map(Number);
const runs = Number(args.runs);
if (sizes.some((n) => !Number.isInteger(n) || n < 2) || !Number.isInteger(runs) || runs < 1 || runs > 50) {
  throw new Error(`bad --sizes ${args.sizes} or --runs ${args.runs}`);
}
if (!['explicit', 'workspaces'].includes(args['kiln-config']))
  throw new Error('--kiln-config is explicit or workspaces');

const turbo = turboBinary(BENCH);
const kilnBin = resolve(args.kiln);
const work = args.work ? resolve(args.work) : mkdtempSync(join(tmpdir(), 'kiln-bench-'));
// Offline and quiet: no telemetry, no update check, no remote cache credentials from the caller.
const ENV = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', TURBO_NO_UPDATE_NOTIFIER: '1' };
for (const name of ['TURBO_TOKEN', 'TURBO_TEAM', 'TURBO_TEAMID', 'TURBO_API', 'TURBO_REMOTE_ONLY', 'TURBO_CACHE']) {
  delete ENV[name];
}

/** Runs a command; resolves with its wall time in ms and its stdout, rejects with the output tail on failure. */
function timed(cmd, argv, opts) {
  return new Promise((done, fail) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, argv, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-20_000);
    });
    child.on('error', fail);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) done({ ms, stdout });
      else
        fail(new Error(`${cmd} ${argv.join(' ')} exited ${code} in ${opts.cwd}:\n${(stdout + stderr).slice(-3000)}`));
    });
  });
}

const git = (cwd, ...argv) => timed('git', argv, { cwd, env: GIT_ENV });
const rmDists = (repo) => {
  for (const p of readdirSync(join(repo, 'packages')))
    rmSync(join(repo, 'packages', p, 'dist'), { recursive: true, force: true });
};

/** One clone per tool, so no tool sees another's outputs or caches. */
async function setUp(n) {
  const base = join(work, String(n));
  rmSync(base, { recursive: true, force: true });
  const info = generate(n, join(base, 'origin'));
  const repos = {};
  for (const tool of TOOLS) {
    repos[tool] = join(base, tool);
    await git(base, 'clone', '-q', join(base, 'origin'), tool);
  }
  if (args['kiln-config'] === 'workspaces') {
    cpSync(join(repos.kiln, 'kiln.workspaces.yaml'), join(repos.kiln, 'kiln.yaml'));
    await git(repos.kiln, 'commit', '-qam', 'kiln: per-package syntax');
  }
  if (args['kiln-config'] === 'workspaces') {
    cpSync(join(repos.worker, 'kiln.workspaces.yaml'), join(repos.worker, 'kiln.yaml'));
    await git(repos.worker, 'commit', '-qam', 'kiln: per-package syntax');
  }
  const kilnHome = join(base, 'kiln-home');
  await timed(process.execPath, [kilnBin, 'keys', 'generate', '--out', join(base, 'bench')], { cwd: base, env: ENV });
  const ctx = { ...info, base, repos, kilnHome, key: join(base, 'bench.key'), workerHome: join(base, 'worker-home') };
  ctx.server = await startServer(ctx);
  return ctx;
}

/**
 * `kiln serve` with one in-process worker over its own home, building the worker's clone (a file:// repository):
 * the "via a warm worker" tool. Resolves once it listens, with a trigger token.
 */
async function startServer(ctx) {
  const config = join(ctx.base, 'kiln-server.yaml');
  writeFileSync(config, `concurrency: 1\nprojects:\n  - name: bench\n    repository: file://${ctx.repos.worker}\n`);
  const env = { ...ENV, KILN_HOME: ctx.workerHome, KILN_SIGNING_KEY: ctx.key };
  const { stdout } = await timed(process.execPath, [kilnBin, 'tokens', 'create', '--scope', 'trigger'], {
    cwd: ctx.base,
    env,
  });
  const child = spawn(
    process.execPath,
    [kilnBin, 'serve', '--listen', '127.0.0.1:0', '--config', config, '--workers', '1'],
    {
      cwd: ctx.base,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const url = await new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`kiln serve did not listen in 30 s:\n${out}`)), 30_000);
    child.stdout.on('data', (c) => {
      out += c;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        done(m[1]);
      }
    });
    child.stderr.on('data', (c) => {
      out = (out + c).slice(-20_000);
    });
    child.on('exit', (code) => fail(new Error(`kiln serve exited ${code}:\n${out}`)));
  });
  return { child, url, token: stdout.trim(), output: () => out };
}

async function stopServer(server) {
  const exited = new Promise((done) => server.child.on('exit', done));
  server.child.kill('SIGTERM');
  await exited;
}

/**
 * Submits a build of main to the warm worker and follows it as `kiln submit --follow` does (its log as Server-Sent
 * Events, to the `end` event); resolves with the ms taken once the build succeeded with an artifact.
 */
async function viaWorker(ctx, scenario) {
  const { url, token } = ctx.server;
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  const started = process.hrtime.bigint();
  const submitted = await fetch(`${url}/v1/builds`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ project: 'bench', ref: 'main', force: scenario === 'replay' }),
  });
  if (submitted.status !== 202) throw new Error(`submit: ${submitted.status} ${await submitted.text()}`);
  const { id } = await submitted.json();
  const stream = await fetch(`${url}/v1/builds/${id}/logs`, { headers });
  if (stream.status !== 200) throw new Error(`logs of ${id}: ${stream.status} ${await stream.text()}`);
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of stream.body) {
    text += decoder.decode(chunk, { stream: true });
    if (/^event: end$/m.test(text)) break;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const job = await (await fetch(`${url}/v1/builds/${id}`, { headers })).json();
  if (job.status !== 'succeeded' || job.artifacts.length === 0) {
    throw new Error(`job ${id} ended ${job.status}:\n${ctx.server.output().slice(-3000)}`);
  }
  return ms;
}

/** Puts one tool's clone (and caches) into the state a scenario starts from. */
async function prepare(tool, scenario, ctx, revision) {
  const repo = ctx.repos[tool];
  if (scenario === 'cold') {
    rmDists(repo);
    if (tool === 'kiln') rmSync(ctx.kilnHome, { recursive: true, force: true });
    if (tool === 'turbo') rmSync(join(repo, '.turbo'), { recursive: true, force: true });
  }
  if (scenario === 'restore') rmDists(repo);
  if (tool === 'worker' && scenario === 'cold') {
    await stopServer(ctx.server);
    rmSync(ctx.workerHome, { recursive: true, force: true });
    ctx.server = await startServer(ctx);
  }
  if (tool === 'worker' && scenario === 'restore') {
    rmSync(join(ctx.workerHome, 'serve', 'out', 'bench'), { recursive: true, force: true }); // what it delivered
  }
  if ((scenario === 'cold' || scenario === 'restore') && tool === 'kiln') {
    rmSync(join(repo, 'kiln-out'), { recursive: true, force: true }); // Kiln builds in a clean copy: its outputs are here
  }
  if (scenario === 'leaf' || scenario === 'root') {
    const file = join(repo, 'packages', scenario === 'leaf' ? ctx.leaf : ctx.root, 'src', 'index.js');
    const text = readFileSync(file, 'utf8').replace(/REVISION_BASE = \d+;/, `REVISION_BASE = ${revision};`);
    writeFileSync(file, text);
    await git(repo, 'commit', '-qam', `${scenario} change ${revision}`);
  }
}

/** Builds with one tool and checks it left its outputs; resolves with the wall time in ms. */
async function build(tool, ctx, scenario) {
  const repo = ctx.repos[tool];
  if (tool === 'worker') return viaWorker(ctx, scenario);
  if (tool === 'kiln') {
    const argv = [kilnBin, 'build', '--json', '--key', ctx.key];
    if (scenario === 'replay') argv.push('--force'); // run the whole pipeline, every step a cache hit
    const { ms, stdout } = await timed(process.execPath, argv, { cwd: repo, env: { ...ENV, KILN_HOME: ctx.kilnHome } });
    const result = JSON.parse(stdout);
    const artifact = result.artifacts?.[0]?.path;
    if (result.status !== 'succeeded' || !artifact || !existsSync(artifact)) {
      throw new Error(`kiln build ${result.buildId}: status ${result.status}, artifact ${artifact}`);
    }
    return ms;
  }
  const { ms } =
    tool === 'turbo'
      ? await timed(turbo.path, TURBO_ARGS, { cwd: repo, env: ENV })
      : await timed(
          process.execPath,
          [join(BENCH, 'direct-build.mjs'), repo, '--jobs', String(availableParallelism())],
          {
            cwd: repo,
            env: ENV,
          },
        );
  for (const pkg of [ctx.root, ctx.leaf]) {
    if (!existsSync(join(repo, 'packages', pkg, 'dist', 'index.js'))) throw new Error(`${tool} left no ${pkg}/dist`);
  }
  return ms;
}

/** Every scenario for every tool, round-robin; returns the samples in ms. */
async function measure(n, ctx) {
  const samples = Object.fromEntries(SCENARIOS.map((s) => [s, Object.fromEntries(TOOLS.map((t) => [t, []]))]));
  for (let r = 0; r < runs; r++) {
    for (const scenario of SCENARIOS) {
      revision++;
      // Rotate which tool goes first, so none always runs right after the same neighbour.
      for (const tool of TOOLS.map((_, i) => TOOLS[(i + r) % TOOLS.length])) {
        await prepare(tool, scenario, ctx, revision);
        const ms = await build(tool, ctx, scenario);
        samples[scenario][tool].push(ms);
        const label = `${n} pkgs run ${r + 1}/${runs} ${scenario.padEnd(7)} ${tool.padEnd(6)}`;
        process.stderr.write(`  ${label} ${(ms / 1000).toFixed(3)} s\n`);
      }
    }
  }
  return samples;
}

const results = {
  turbo: turbo.version,
  kiln: kilnBin,
  kilnConfig: args['kiln-config'],
  cores: availableParallelism(),
  sizes: {},
};
let revision = 0;
try {
  process.stderr.write(`bench: work dir ${work}; turbo ${turbo.version}; kiln ${kilnBin}\n`);
  for (const n of sizes) {
    const ctx = await setUp(n);
    const loadBefore = loadavg()[0];
    const samples = await measure(n, ctx);
    results.sizes[n] = {
      layers: ctx.layers,
      load: [loadBefore, loadavg()[0]].map((l) => l.toFixed(1)),
      outputsIdentical: hashTree(ctx.repos.turbo, 'dist') === hashTree(ctx.repos.direct, 'dist'),
      samples,
      summary: summarize(samples),
    };
    printTable(n, runs, results.sizes[n], results);
    await stopServer(ctx.server);
  }
  if (args.json) writeFileSync(args.json, `${JSON.stringify(results, null, 2)}\n`);
} finally {
  if (!args.keep && !args.work) rmSync(work, { recursive: true, force: true });
}
