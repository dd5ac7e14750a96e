#!/usr/bin/env node
// Benchmark, not a test: how kiln.yaml load time grows with the file's size (doubling the size should double it).
// Usage: node bench/config-load.mjs [--runs N]   (imports dist/: run `npm run build` first)
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

const REPO = path.resolve(import.meta.dirname, '..');
const DIST = path.join(REPO, 'dist/config/load.js');
if (!existsSync(DIST)) throw new Error(`${DIST} is missing (run \`npm run build\` in ${REPO} first)`);
const { parseConfig, MAX_CONFIG_BYTES } = await import(DIST);
const { parseDocument } = await import('yaml');

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`);

/** A valid kiln.yaml of about `bytes` bytes: a chain of steps, each needing the one before (a deep step graph). */
function kilnYaml(bytes) {
  const parts = ['name: big\nsteps:\n'];
  let size = parts[0].length;
  let steps = 0;
  for (; size < bytes - 200; steps++) {
    const step = `  s${steps}:\n    run: node build.mjs packages/p${steps}\n    inputs: [packages/p${steps}/src]\n    outputs: [packages/p${steps}/dist]\n${steps > 0 ? `    needs: [s${steps - 1}]\n` : ''}`;
    parts.push(step);
    size += step.length;
  }
  parts.push('artifacts:\n  - name: p0\n    from: s0\n    path: packages/p0/dist\n');
  return { text: parts.join(''), steps };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const time = (fn) => {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
};

const CASES = {
  // What Kiln does: parse, duplicate keys, schema, graph rules, freeze.
  'parseConfig (kiln)': (text) => parseConfig(text, 'kiln.yaml'),
  // The yaml package's own duplicate-key check, which Kiln used before: it compares each key with every earlier one.
  'yaml uniqueKeys: true': (text) => parseDocument(text, { uniqueKeys: true }),
};

console.log(`node ${process.version}, ${runs} runs per size (median), limit ${MAX_CONFIG_BYTES} bytes\n`);
console.log('| size | steps | case | median | ms per 100 KiB | × previous size |');
console.log('| ---: | ---: | --- | ---: | ---: | ---: |');
const previous = {};
for (const kib of [64, 128, 256, 512, 1020]) {
  const { text, steps } = kilnYaml(kib * 1024);
  for (const [name, fn] of Object.entries(CASES)) {
    fn(text); // warm-up, not counted
    const ms = median(Array.from({ length: runs }, () => time(() => fn(text))));
    const growth = previous[name] ? `${(ms / previous[name]).toFixed(2)}×` : '';
    previous[name] = ms;
    console.log(
      `| ${kib} KiB | ${steps} | ${name} | ${ms.toFixed(0)} ms | ${((ms / text.length) * 102400).toFixed(1)} | ${growth} |`,
    );
  }
}
console.log('\nThe sizes double (the last one is just under the limit): linear growth is ~2× per row, quadratic ~4×.');
