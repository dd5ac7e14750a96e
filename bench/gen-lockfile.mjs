#!/usr/bin/env node
// Writes a synthetic but valid npm project (package.json + package-lock.json, lockfileVersion 3) of N installed
// packages, the same bytes for the same N, for the SBOM scale benchmark (sbom-scale.mjs).
// Usage: node bench/gen-lockfile.mjs N DIR
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const LICENSES = ['MIT', 'ISC', 'Apache-2.0', 'BSD-3-Clause', '(MIT OR Apache-2.0)'];

/** A small deterministic generator (mulberry32), so the same N always gives the same lockfile. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The project's package.json and package-lock.json for `n` installed packages. Packages are a DAG: package i depends
 * on up to three of the packages after it, every package is reachable from the root (so `npm ls` finds nothing
 * extraneous), one in ten is scoped, one in twenty-five has a nested copy of a dependency at another major version
 * (`node_modules/a/node_modules/b`, which Node resolves before the top-level one), and what only the root's
 * devDependencies reach is flagged `dev`, as npm writes it.
 */
export function syntheticLockfile(n) {
  if (!Number.isInteger(n) || n < 2) throw new Error(`need at least 2 packages, got ${n}`);
  const next = random(n);
  const nested = Math.floor(n / 25); // entries spent on nested copies
  const top = n - nested;
  const name = (i) => (i % 10 === 3 ? `@scope${i % 7}/pkg-${i}` : `pkg-${i}`);
  const version = (i) => `1.${i % 13}.${i % 5}`;
  const deps = Array.from({ length: top }, () => new Set());
  // Every package after the first few gets one parent before it, so all are reachable; then extra edges.
  const roots = Math.min(top, Math.max(2, Math.ceil(Math.sqrt(top))));
  for (let j = roots; j < top; j++) deps[Math.floor(next() * j)]?.add(j);
  for (let i = 0; i < top; i++) {
    const extra = Math.floor(next() * 3);
    for (let k = 0; k < extra && i + 1 < top; k++)
      deps[i]?.add(i + 1 + Math.floor(next() * Math.min(top - i - 1, 500)));
  }
  // Nested copies: package p depends on 2.x of one of its dependencies d, installed under p's node_modules.
  const nestedUnder = new Map();
  for (let k = 0; k < nested; k++) {
    const p = Math.floor((k * top) / nested);
    const d = [...(deps[p] ?? [])][0];
    if (d !== undefined) nestedUnder.set(p, d);
  }
  // What the top-level copies are reached through: the edges to nested copies resolve elsewhere.
  const topDeps = deps.map((set, p) => [...set].filter((d) => nestedUnder.get(p) !== d));
  const rootSet = new Set(Array.from({ length: roots }, (_, i) => i));
  const unreached = reachable(topDeps, [...rootSet]);
  for (let i = 0; i < top; i++) if (!unreached.has(i)) rootSet.add(i); // a direct dependency then, never extraneous
  const devRoots = new Set([...rootSet].filter((i) => i % 4 === 3));
  const prod = reachable(
    topDeps,
    [...rootSet].filter((i) => !devRoots.has(i)),
  );
  const entry = (i, ver, dependencies, dev) => ({
    version: ver,
    resolved: `https://registry.npmjs.org/${name(i)}/-/${name(i).replace(/^@[^/]+\//, '')}-${ver}.tgz`,
    integrity: `sha512-${createHash('sha512')
      .update(`${name(i)}@${ver}`)
      .digest('base64')}`,
    ...(dev ? { dev: true } : {}),
    license: LICENSES[i % LICENSES.length],
    ...(Object.keys(dependencies).length === 0 ? {} : { dependencies }),
  });
  const rootDeps = {};
  const rootDevDeps = {};
  for (const i of rootSet) (devRoots.has(i) ? rootDevDeps : rootDeps)[name(i)] = `^${version(i)}`;
  const manifest = {
    name: `synthetic-${n}`,
    version: '1.0.0',
    license: 'MIT',
    dependencies: sorted(rootDeps),
    devDependencies: sorted(rootDevDeps),
  };
  const packages = { '': { ...manifest } };
  for (let i = 0; i < top; i++) {
    const dependencies = {};
    for (const d of [...(deps[i] ?? [])].sort((a, b) => a - b)) {
      dependencies[name(d)] = nestedUnder.get(i) === d ? '^2.0.0' : `^${version(d)}`;
    }
    packages[`node_modules/${name(i)}`] = entry(i, version(i), dependencies, !prod.has(i));
    const d = nestedUnder.get(i);
    if (d !== undefined) {
      packages[`node_modules/${name(i)}/node_modules/${name(d)}`] = entry(d, `2.${d % 3}.0`, {}, !prod.has(i));
    }
  }
  // Fill the entries left by parents that had no dependency to nest with further leaf packages.
  for (let i = top; Object.keys(packages).length - 1 < n; i++) {
    packages[`node_modules/${name(i)}`] = entry(i, version(i), {}, false);
    manifest.dependencies[name(i)] = `^${version(i)}`;
    packages[''].dependencies[name(i)] = `^${version(i)}`;
  }
  const lock = { name: manifest.name, version: manifest.version, lockfileVersion: 3, requires: true, packages };
  return { manifest, lock };
}

function reachable(deps, from) {
  const seen = new Set(from);
  const stack = [...from];
  while (stack.length > 0) {
    for (const d of deps[stack.pop()] ?? []) {
      if (!seen.has(d)) {
        seen.add(d);
        stack.push(d);
      }
    }
  }
  return seen;
}

function sorted(record) {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Writes DIR/package.json and DIR/package-lock.json; returns the number of installed packages. */
export function writeSyntheticProject(n, dir) {
  const { manifest, lock } = syntheticLockfile(n);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(path.join(dir, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
  return Object.keys(lock.packages).length - 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [count, dir] = process.argv.slice(2);
  if (count === undefined || dir === undefined) throw new Error('usage: node bench/gen-lockfile.mjs N DIR');
  const written = writeSyntheticProject(Number(count), path.resolve(dir));
  console.log(`${dir}: ${written} packages`);
}
