#!/usr/bin/env node
// The baseline without any build tool: runs every package's `node build.mjs` of a generated monorepo in dependency
// order, as many at once as there are cores. No cache, no hashing: every run is a full build.
// Usage: node bench/direct-build.mjs ROOT [--jobs N]
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

/** Builds all packages under ROOT/packages; resolves when all succeeded, rejects on the first failure. */
export async function buildAll(root, jobs = availableParallelism()) {
  const packages = new Map();
  for (const dir of readdirSync(join(root, 'packages'))) {
    const manifest = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
    packages.set(manifest.name, { dir: join(root, 'packages', dir), deps: Object.keys(manifest.dependencies ?? {}) });
  }
  const done = new Set();
  const running = new Map();
  let failure;
  const start = (name, pkg) => {
    const task = new Promise((resolve) => {
      const child = spawn(process.execPath, ['build.mjs'], { cwd: pkg.dir, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      child.on('error', (err) => resolve(err.message));
      child.on('close', (code) => resolve(code === 0 ? undefined : `exit ${code}: ${stderr.trim()}`));
    }).then((error) => {
      running.delete(name);
      if (error) failure ??= new Error(`${name}: ${error}`);
      else done.add(name);
    });
    running.set(name, task);
  };
  while (done.size < packages.size && !failure) {
    for (const [name, pkg] of packages) {
      if (running.size >= jobs) break;
      if (!done.has(name) && !running.has(name) && pkg.deps.every((d) => done.has(d) || !packages.has(d))) {
        start(name, pkg);
      }
    }
    if (running.size === 0) throw new Error('no package can start: a dependency cycle?');
    await Promise.race(running.values());
  }
  await Promise.all(running.values());
  if (failure) throw failure;
  return packages.size;
}

if (process.argv[1]?.endsWith('direct-build.mjs')) {
  const [root, flag, jobs] = process.argv.slice(2);
  if (!root) {
    process.stderr.write('usage: node direct-build.mjs ROOT [--jobs N]\n');
    process.exit(2);
  }
  buildAll(root, flag === '--jobs' ? Number(jobs) : undefined).then(
    (count) => process.stdout.write(`built ${count} packages\n`),
    (err) => {
      process.stderr.write(`direct build failed: ${err.message}\n`);
      process.exit(1);
    },
  );
}
