// Helpers for the benchmarks: where turbo's native binary is, a digest of all packages' outputs, and what a CycloneDX
// document lists.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const PLATFORMS = { x64: '64', arm64: 'arm64' };

/** turbo's native binary from its optional platform package (skips the JS shim and its Node start-up). */
export function turboBinary(benchDir) {
  const exe = process.platform === 'win32' ? 'turbo.exe' : 'turbo';
  const pkg = `${process.platform === 'win32' ? 'windows' : process.platform}-${PLATFORMS[process.arch] ?? process.arch}`;
  const path = join(benchDir, 'node_modules', '@turbo', pkg, 'bin', exe);
  if (!existsSync(path)) throw new Error(`no turbo binary at ${path}: run \`npm ci\` in ${benchDir}`);
  const version = execFileSync(path, ['--version'], {
    encoding: 'utf8',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  }).trim();
  return { path, version };
}

/** sha256 over every file (path and bytes) in packages/*\/<sub> of a repo, to check two tools built the same. */
export function hashTree(repo, sub) {
  const hash = createHash('sha256');
  const walk = (dir, rel) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path, `${rel}/${entry.name}`);
      else hash.update(`${rel}/${entry.name}\0`).update(readFileSync(path));
    }
  };
  for (const pkg of readdirSync(join(repo, 'packages')).sort()) walk(join(repo, 'packages', pkg, sub), `${pkg}/${sub}`);
  return hash.digest('hex');
}

/** The distinct purls (qualifiers dropped) and the number of dependency edges a CycloneDX document lists. */
export function bomContents(bom) {
  const purls = new Set();
  const walk = (list = []) => {
    for (const c of list) {
      if (c.purl) purls.add(c.purl.replace(/[?#].*$/s, ''));
      walk(c.components);
    }
  };
  walk(bom.components);
  const edges = (bom.dependencies ?? []).reduce((n, d) => n + (d.dependsOn?.length ?? 0), 0);
  return { purls, edges };
}
