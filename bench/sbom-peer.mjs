#!/usr/bin/env node
// Benchmark, not a test: Kiln's npm SBOM generation against cyclonedx-npm and `npm sbom`, on one lockfile, interleaved.
// Usage: node bench/sbom-peer.mjs [DIR] [--runs N]   (DIR holds package.json + package-lock.json; needs `npm run build`)
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { bomContents } from './tools.mjs';

const REPO = path.resolve(import.meta.dirname, '..');
const DIST = path.join(REPO, 'dist/sbom/index.js');
const KILN_BIN = path.join(REPO, 'bin/kiln.js');
const PEER = path.join(REPO, 'node_modules/@cyclonedx/cyclonedx-npm');
const META = { commit: '0'.repeat(40), sourceDateEpoch: 1700000000, toolName: 'kiln', toolVersion: '0.1.0' };

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string', default: '7' } },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`);
// Default: this repository's own lockfile, the largest real one at hand (a few hundred entries).
const source = path.resolve(positionals[0] ?? REPO);
for (const file of [DIST, path.join(PEER, 'package.json'), path.join(source, 'package-lock.json')]) {
  if (!existsSync(file)) throw new Error(`${file} is missing (run \`npm ci && npm run build\` in ${REPO} first)`);
}

// Only package.json + package-lock.json, in a temp dir: every tool works from the lockfile alone.
const work = mkdtempSync(path.join(tmpdir(), 'kiln-sbom-bench-'));
for (const file of ['package.json', 'package-lock.json']) copyFileSync(path.join(source, file), path.join(work, file));
const lockPath = path.join(work, 'package-lock.json');
// NODE_ENV=production would make the peers omit dev packages; Kiln lists them (scope `excluded`), so do they.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_ENV'));

const kiln = await import(DIST);
const peerPkg = JSON.parse(readFileSync(path.join(PEER, 'package.json'), 'utf8'));
const peerBin = path.join(PEER, typeof peerPkg.bin === 'string' ? peerPkg.bin : peerPkg.bin['cyclonedx-npm']);

/** Kiln's whole SBOM step in this process: read + graph, document, validate once, serialize. */
function kilnInProcess() {
  const text = readFileSync(lockPath, 'utf8');
  const bom = kiln.cycloneDxDocument(kiln.readNpmLockfile(text, 'package-lock.json'), META);
  kiln.validateCycloneDx(bom);
  return kiln.serializeBom(bom);
}

const out = (name) => path.join(work, `${name}.cdx.json`);
const COMMANDS = {
  'node -e 0': [process.execPath, ['-e', '0']], // start-up alone, for reference
  // `kiln sbom` as a user runs it: the bundled CLI, CycloneDX and SPDX made, both validated, one written.
  'kiln sbom': [process.execPath, [KILN_BIN, 'sbom', work, '--output', out('kiln')]],
  'cyclonedx-npm': [
    process.execPath,
    [peerBin, '--package-lock-only', '--output-format', 'JSON', '--spec-version', '1.6', '--output-file', out('peer')],
  ],
  'npm sbom': ['npm', ['sbom', '--sbom-format', 'cyclonedx', '--package-lock-only']],
};

/** Wall time of one command from spawn to exit, in ms, with its output (npm sbom prints the BOM). */
function timeCommand(name) {
  const [cmd, args] = COMMANDS[name];
  return new Promise((resolve, reject) => {
    const chunks = [];
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (c) => chunks.push(c));
    child.stderr.on('data', (c) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const output = Buffer.concat(chunks);
      if (code !== 0) reject(new Error(`${name} exited ${code}: ${output.toString('utf8').slice(0, 2000)}`));
      else resolve({ ms, output });
    });
  });
}

function timeInProcess() {
  const start = process.hrtime.bigint();
  kilnInProcess();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const NAMES = ['kiln (library)', ...Object.keys(COMMANDS)];
const samples = Object.fromEntries(NAMES.map((n) => [n, []]));
let npmBom;
for (let round = -1; round < runs; round++) {
  // Round -1 warms the page cache and JIT and is not counted; the order rotates every round.
  const order = NAMES.map((_, i) => NAMES[(i + Math.max(round, 0)) % NAMES.length]);
  for (const name of order) {
    if (name === 'kiln (library)') {
      const ms = timeInProcess();
      if (round >= 0) samples[name].push(ms);
      continue;
    }
    const { ms, output } = await timeCommand(name);
    if (name === 'npm sbom') npmBom = output;
    if (round >= 0) samples[name].push(ms);
  }
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1] };
};
const fmt = (ms) => (ms >= 100 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`);

// Distinct purls each tool lists (qualifiers stripped): they describe the same lockfile, but Kiln keeps only the
// platform binaries npm installs here, while both peers list every locked entry.
function purlCount(bom) {
  return bomContents(bom).purls.size;
}
const counts = {
  kiln: purlCount(JSON.parse(readFileSync(out('kiln'), 'utf8'))),
  'cyclonedx-npm': purlCount(JSON.parse(readFileSync(out('peer'), 'utf8'))),
  'npm sbom': purlCount(JSON.parse(npmBom.toString('utf8'))),
};
const lockEntries = Object.keys(JSON.parse(readFileSync(lockPath, 'utf8')).packages ?? {}).length;

console.log(`project: ${source} (${lockEntries} lockfile entries), ${runs} interleaved runs after 1 warm-up`);
console.log(
  `components (distinct purls): ${Object.entries(counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`,
);
console.log(
  `node ${process.version}, cyclonedx-npm ${peerPkg.version}; Kiln includes validateCycloneDx once per run\n`,
);
const summary = Object.fromEntries(NAMES.map((n) => [n, stats(samples[n])]));
for (const name of NAMES) {
  const { median, min, max } = summary[name];
  console.log(`${name.padEnd(16)} median ${fmt(median).padStart(9)}   [${fmt(min)} – ${fmt(max)}]`);
}
const kilnProcess = summary['kiln sbom'].median;
const library = summary['kiln (library)'].median;
console.log('');
for (const peer of ['cyclonedx-npm', 'npm sbom']) {
  const m = summary[peer].median;
  console.log(
    `${peer}/kiln: ${(m / kilnProcess).toFixed(1)}× (\`kiln sbom\`, a fresh process each)   ${(m / library).toFixed(0)}× (vs Kiln in-process)`,
  );
}
rmSync(work, { recursive: true, force: true });
