#!/usr/bin/env node
// Benchmark, not a test: `kiln sbom` against cyclonedx-npm on synthetic lockfiles of 1k, 10k and 100k packages, each
// command a fresh process, interleaved. Usage: node bench/sbom-scale.mjs [--sizes 1000,10000,100000] [--runs 3]
// [--peer-timeout 600] [--work DIR]   (needs `npm ci && npm run build` in the repository root)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { writeSyntheticProject } from './gen-lockfile.mjs';
import { bomContents } from './tools.mjs';

const REPO = path.resolve(import.meta.dirname, '..');
const KILN_BIN = path.join(REPO, 'bin/kiln.js');
const PEER = path.join(REPO, 'node_modules/@cyclonedx/cyclonedx-npm');

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,100000' },
    runs: { type: 'string', default: '3' },
    'peer-timeout': { type: 'string', default: '600' },
    work: { type: 'string' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const runs = Number(values.runs);
const peerTimeoutMs = Number(values['peer-timeout']) * 1000;
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`);
for (const file of [path.join(REPO, 'dist/cli/main.js'), path.join(PEER, 'package.json')]) {
  if (!existsSync(file)) throw new Error(`${file} is missing (run \`npm ci && npm run build\` in ${REPO} first)`);
}
const peerPkg = JSON.parse(readFileSync(path.join(PEER, 'package.json'), 'utf8'));
const peerBin = path.join(PEER, typeof peerPkg.bin === 'string' ? peerPkg.bin : peerPkg.bin['cyclonedx-npm']);
// NODE_ENV=production would make the peer omit dev packages; Kiln lists them (scope `excluded`), so does it.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_ENV'));
const work = values.work ? path.resolve(values.work) : mkdtempSync(path.join(tmpdir(), 'kiln-sbom-scale-'));

/** The two commands on one project: Kiln as a user runs it, and the peer from the lockfile alone (spec 1.6, JSON). */
function commands(dir) {
  return {
    'kiln sbom': [KILN_BIN, 'sbom', dir, '--output', path.join(dir, 'kiln.cdx.json')],
    'cyclonedx-npm': [
      peerBin,
      '--package-lock-only',
      '--output-format',
      'JSON',
      '--spec-version',
      '1.6',
      '--output-file',
      path.join(dir, 'peer.cdx.json'),
    ],
  };
}

/** Wall time in ms of one command from spawn to exit, or undefined when it ran past `timeoutMs` (then killed). */
function timeCommand(args, cwd, timeoutMs) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr = `${stderr}${c}`.slice(-2000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (signal === 'SIGKILL') resolve(undefined);
      else if (code !== 0) reject(new Error(`${args.slice(0, 2).join(' ')} exited ${code}: ${stderr}`));
      else resolve(ms);
    });
  });
}

/** Components (by purl, qualifiers dropped) and dependency edges a CycloneDX file lists, to see both read it alike. */
function contents(file) {
  if (!existsSync(file)) return undefined;
  const { purls, edges } = bomContents(JSON.parse(readFileSync(file, 'utf8')));
  return { components: purls.size, edges };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const secs = (ms) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`);
const cell = (xs) =>
  xs.length === 0 ? '—' : `${secs(median(xs))} [${secs(Math.min(...xs))}–${secs(Math.max(...xs))}]`;

const rows = [];
console.log(`node ${process.version}, cyclonedx-npm ${peerPkg.version}, ${cpus().length} cores, ${runs} run(s)`);
for (const size of sizes) {
  const dir = path.join(work, `lock-${size}`);
  const entries = writeSyntheticProject(size, dir);
  const cmds = commands(dir);
  const names = Object.keys(cmds);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  const timedOut = new Set();
  const load = [loadavg()[0]];
  for (let round = 0; round < runs; round++) {
    // Interleaved: the first tool alternates every round, so a load change hits both alike.
    for (const name of round % 2 ? [...names].reverse() : names) {
      if (timedOut.has(name)) continue; // once past the limit, not run again at this size
      const ms = await timeCommand(cmds[name], dir, name === 'kiln sbom' ? 3_600_000 : peerTimeoutMs);
      if (ms === undefined) timedOut.add(name);
      else samples[name].push(ms);
      console.log(`  ${size} ${name} round ${round + 1}: ${ms === undefined ? 'killed at the time limit' : secs(ms)}`);
    }
  }
  load.push(loadavg()[0]);
  const kiln = contents(path.join(dir, 'kiln.cdx.json'));
  const peer = contents(path.join(dir, 'peer.cdx.json'));
  const ratio = samples['cyclonedx-npm'].length && samples['kiln sbom'].length;
  rows.push([
    `${entries}`,
    cell(samples['kiln sbom']),
    timedOut.has('cyclonedx-npm') ? `over ${secs(peerTimeoutMs)}` : cell(samples['cyclonedx-npm']),
    ratio ? `${(median(samples['cyclonedx-npm']) / median(samples['kiln sbom'])).toFixed(1)}×` : '—',
    `${kiln?.components ?? '—'} / ${peer?.components ?? '—'}`,
    `${kiln?.edges ?? '—'} / ${peer?.edges ?? '—'}`,
    load.map((l) => l.toFixed(1)).join(' → '),
  ]);
  rmSync(path.join(dir, 'peer.cdx.json'), { force: true });
}

const header = [
  'packages',
  'kiln sbom median [min–max]',
  'cyclonedx-npm median [min–max]',
  'cdx-npm/kiln',
  'components kiln / cdx-npm',
  'edges kiln / cdx-npm',
  'load average (1 min)',
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(['', line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n'));
if (!values.work) rmSync(work, { recursive: true, force: true });
