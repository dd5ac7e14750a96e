#!/usr/bin/env node
// Per-step cost of the bubblewrap sandbox against running the same shell on the host, and the cost of the host
// builder digest (which every build computes). Uses dist/: run `npx tsc -p tsconfig.json` first.
// Usage: node bench/sandbox-overhead.mjs [RUNS]   (default 30; runs are interleaved so drift hits all alike)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bubblewrapRunner, hostBuilderDigest, hostRunner, loadToolMemo } from '../dist/sandbox/index.js';

const runs = Number(process.argv[2] ?? 30);
const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-sandbox-'));
const variants = {
  'host: sh -c true': { runner: hostRunner(), network: false },
  'bubblewrap: sh -c true': { runner: bubblewrapRunner(), network: false },
  'bubblewrap + network: sh -c true': { runner: bubblewrapRunner(), network: true },
};
const times = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));

try {
  for (let i = -3; i < runs; i++) {
    for (const [name, { runner, network }] of Object.entries(variants)) {
      const started = process.hrtime.bigint();
      const outcome = await runner.run({
        name,
        command: 'true',
        cwd: dir,
        env: {},
        network,
        logFile: join(dir, 'log'),
      });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (outcome.exitCode !== 0) throw new Error(`${name} failed: ${outcome.logTail.join('\n')}`);
      if (i >= 0) times[name].push(ms); // the first three rounds warm caches
    }
  }
  const host = median(times['host: sh -c true']);
  console.log(`per-step wall time, median (min–max) of ${runs} interleaved runs:`);
  for (const [name, list] of Object.entries(times)) {
    const extra = name.startsWith('host') ? '' : `  (+${(median(list) - host).toFixed(1)} ms over host)`;
    console.log(`  ${name.padEnd(34)} ${fmt(list)}${extra}`);
  }

  const opts = { tools: ['sh', 'node', 'npm', 'git', 'tar'], path: '/usr/local/bin:/usr/bin:/bin' };
  const memoFile = join(dir, 'tool-memo.json');
  const cold = await timed(() => hostBuilderDigest(opts));
  const repeat = await timed(() => hostBuilderDigest(opts));
  const fill = await loadToolMemo(memoFile);
  await hostBuilderDigest({ ...opts, memo: fill });
  await fill.save();
  const fromFile = await timed(async () => hostBuilderDigest({ ...opts, memo: await loadToolMemo(memoFile) }));
  console.log(`host builder digest (${opts.tools.join(' ')}):`);
  console.log(`  first call in a process (hash binaries, run --version): ${cold.toFixed(1)} ms`);
  console.log(`  repeat call (per-process memo):                         ${repeat.toFixed(1)} ms`);
  console.log(`  first call with a memo file (load + stat):              ${fromFile.toFixed(1)} ms`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function median(list) {
  const sorted = [...list].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function fmt(list) {
  return `${median(list).toFixed(1)} ms (${Math.min(...list).toFixed(1)}–${Math.max(...list).toFixed(1)})`;
}

async function timed(fn) {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e6;
}
