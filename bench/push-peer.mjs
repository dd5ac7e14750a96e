#!/usr/bin/env node
// Benchmark, not a test: `kiln publish` of the example build against `skopeo copy` of the same OCI layout, to a
// docker-registry on loopback started here, interleaved, each run into a fresh repository (so every blob is sent).
// Kiln pushes the artifact and its 7 evidence manifests plus the referrers tag index; skopeo copies the artifact
// manifest alone (it has no notion of the evidence), so the ratio is Kiln's whole publish vs a bare copy.
// Usage: node bench/push-peer.mjs [--runs N]   (needs `npm run build`, docker-registry and skopeo on PATH)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

const REPO = path.resolve(import.meta.dirname, '..');
const KILN = path.join(REPO, 'bin/kiln.js');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const runs = Number(values.runs);
const work = mkdtempSync(path.join(tmpdir(), 'kiln-push-bench-'));
const home = path.join(work, 'home');
const env = { ...process.env, KILN_HOME: home, KILN_SIGNING_KEY: '' };

const port = await freePort();
const host = `127.0.0.1:${port}`;
const config = path.join(work, 'registry.yml');
writeFileSync(
  config,
  `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${work}/storage\n  delete:\n    enabled: true\nhttp:\n  addr: ${host}\n`,
);
const registry = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
try {
  await waitFor(`http://${host}/v2/`);
  // The example, built once from a clean clone (its deps step fetches from the npm registry).
  const clone = path.join(work, 'src');
  execFileSync('git', ['clone', '-q', REPO, clone]);
  const built = JSON.parse(
    execFileSync(process.execPath, [KILN, 'build', path.join(clone, 'examples/hello-node'), '--json'], {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }),
  );
  const index = JSON.parse(readFileSync(path.join(home, 'oci/index.json'), 'utf8'));
  const refName = index.manifests
    .map((m) => m.annotations?.['org.opencontainers.image.ref.name'])
    .find((name) => name?.startsWith('hello-node/'));
  const commands = {
    'kiln publish': (i) => [process.execPath, [KILN, 'publish', built.buildId, '--to', `${host}/kiln/run${i}:v1`]],
    'skopeo copy': (i) => [
      'skopeo',
      ['copy', '-q', '--dest-tls-verify=false', `oci:${home}/oci:${refName}`, `docker://${host}/skopeo/run${i}:v1`],
    ],
  };
  const samples = Object.fromEntries(Object.keys(commands).map((n) => [n, []]));
  for (let i = -1; i < runs; i++) {
    const names = Object.keys(commands);
    for (const name of i % 2 === 0 ? names : names.reverse()) {
      const [cmd, args] = commands[name](i + 1);
      const ms = await timed(cmd, args);
      if (i >= 0) samples[name].push(ms); // the first round warms caches
    }
  }
  console.log(`registry: docker-registry on ${host}; ${runs} interleaved runs after 1 warm-up; fresh repository each`);
  console.log(`artifact: ${built.artifacts[0].path} (${built.artifacts[0].size} bytes)\n`);
  const med = {};
  for (const [name, list] of Object.entries(samples)) {
    const sorted = [...list].sort((a, b) => a - b);
    med[name] = sorted[Math.floor(sorted.length / 2)];
    console.log(
      `${name.padEnd(14)} median ${med[name].toFixed(0).padStart(5)} ms   [${sorted[0].toFixed(0)} – ${sorted.at(-1).toFixed(0)} ms]`,
    );
  }
  console.log(
    `\nkiln publish / skopeo copy: ${(med['kiln publish'] / med['skopeo copy']).toFixed(2)}× (Kiln: 1 artifact + 7 evidence manifests + referrers index; skopeo: the artifact only)`,
  );
} finally {
  registry.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
}

function timed(cmd, args) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`));
      else resolve(Number(process.hrtime.bigint() - start) / 1e6);
    });
  });
}

async function waitFor(url) {
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`registry at ${url} did not start`);
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = server.address();
      server.close(() => resolve(p));
    });
  });
}
