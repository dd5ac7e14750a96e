import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { type CycloneDxComponent, cycloneDxDocument, readNpmLockfile } from '../../../src/sbom/index.js';
import { tempDir } from '../../helpers/tmp.js';

// Accuracy against a peer: for real npm projects, Kiln's reader + CycloneDX writer must list the same components
// as OWASP cyclonedx-npm (a devDependency, pinned) run on the same package.json + package-lock.json, and every
// intended difference is asserted here with its reason.

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const LINUX_X64_GLIBC = { os: 'linux', cpu: 'x64', libc: 'glibc' } as const;
const META = { commit: '0'.repeat(40), sourceDateEpoch: 1700000000, toolName: 'kiln', toolVersion: '0.1.0' };

interface Project {
  readonly dir: string;
  readonly components: number;
}

// Real lockfiles written by npm (test/fixtures/sbom/README.md), with the number of distinct purls both tools list.
const SAME: readonly Project[] = [
  { dir: 'examples/hello-node', components: 8 },
  { dir: 'test/fixtures/sbom/npm-app-v3', components: 28 }, // incl. the workspace @kiln-fixture/util (both list it)
  { dir: 'test/fixtures/sbom/npm-app-v2', components: 28 },
  { dir: 'test/fixtures/sbom/npm-nested-v3', components: 24 },
];

/** The peer's CLI script, from its package.json `bin` (a string or a map), run with this Node. */
function peerBin(): string {
  const root = path.join(REPO, 'node_modules/@cyclonedx/cyclonedx-npm');
  const { bin } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    bin: string | Record<string, string>;
  };
  const script = typeof bin === 'string' ? bin : bin['cyclonedx-npm'];
  if (script === undefined) throw new Error('@cyclonedx/cyclonedx-npm has no cyclonedx-npm bin');
  return path.join(root, script);
}

// purls are compared without qualifiers (`?vcs_url=…`, `?download_url=…`, which cyclonedx-npm may add) and
// without a subpath (`#…`): both identify where a package came from, not which package it is.
const normalise = (purl: string): string => purl.replace(/[?#].*$/s, '');

interface Listed {
  readonly root: string;
  readonly purls: readonly string[];
}

function listed(root: CycloneDxComponent, components: readonly CycloneDxComponent[]): Listed {
  const purls = new Set<string>();
  const walk = (list: readonly (CycloneDxComponent & { components?: readonly CycloneDxComponent[] })[]) => {
    for (const c of list) {
      if (c.purl === undefined) throw new Error(`component ${c.name} has no purl`);
      purls.add(normalise(c.purl));
      walk(c.components ?? []); // cyclonedx-npm nests packages installed under another one's node_modules
    }
  };
  walk(components);
  return { root: normalise(root.purl ?? ''), purls: [...purls].sort() };
}

/** Copies only package.json + package-lock.json, so neither tool can see node_modules or workspace folders. */
function copyProject(dir: string): string {
  const work = tempDir('kiln-peer-');
  for (const file of ['package.json', 'package-lock.json'])
    copyFileSync(path.join(REPO, dir, file), path.join(work, file));
  return work;
}

const OMITTING = new Set(['NODE_ENV', 'npm_config_omit', 'npm_config_production']);

async function peerComponents(work: string): Promise<Listed> {
  const out = path.join(work, 'peer.cdx.json');
  // No --omit, and no NODE_ENV=production (which makes cyclonedx-npm omit dev): dev packages are listed, as Kiln
  // lists them (with scope `excluded`).
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !OMITTING.has(key)));
  const args = ['--package-lock-only', '--output-format', 'JSON', '--spec-version', '1.6', '--output-file', out];
  await promisify(execFile)(process.execPath, [peerBin(), ...args, '--', path.join(work, 'package.json')], {
    cwd: work,
    env,
  });
  const bom = JSON.parse(readFileSync(out, 'utf8')) as {
    metadata: { component: CycloneDxComponent };
    components?: CycloneDxComponent[];
  };
  return listed(bom.metadata.component, bom.components ?? []);
}

function kilnComponents(work: string): Listed {
  const text = readFileSync(path.join(work, 'package-lock.json'), 'utf8');
  const graph = readNpmLockfile(text, 'package-lock.json', { platform: LINUX_X64_GLIBC });
  const bom = cycloneDxDocument(graph, META);
  return listed(bom.metadata.component, bom.components);
}

describe('Kiln lists the same npm components as cyclonedx-npm --package-lock-only', () => {
  it.each(SAME)(
    '$dir: $components components',
    async ({ dir, components }) => {
      const work = copyProject(dir);
      const [peer, kiln] = [await peerComponents(work), kilnComponents(work)];
      expect(kiln.root).toBe(peer.root); // both describe the project in metadata.component, not as a component
      expect(kiln.purls).toEqual(peer.purls);
      expect(kiln.purls).toHaveLength(components);
    },
    60_000,
  );

  it('npm-platform: the peer also lists platform binaries npm would not install on linux x64 glibc', async () => {
    // `npm ls --package-lock-only`, which cyclonedx-npm reads, keeps every locked entry whatever its os/cpu/libc;
    // Kiln lists what npm installs on the build platform (test/sbom/npm-platform.test.ts). So the peer's extra
    // components are exactly the locked entries whose os/cpu/libc reject linux x64 glibc, and nothing else differs.
    const work = copyProject('test/fixtures/sbom/npm-platform');
    const [peer, kiln] = [await peerComponents(work), kilnComponents(work)];
    const rejected = rejectedOn(readFileSync(path.join(work, 'package-lock.json'), 'utf8'), LINUX_X64_GLIBC);
    expect(kiln.root).toBe(peer.root);
    expect(peer.purls.filter((p) => !kiln.purls.includes(p))).toEqual(rejected);
    expect(kiln.purls.filter((p) => !peer.purls.includes(p))).toEqual([]);
    expect(rejected).toHaveLength(45); // 25 @esbuild/*, 19 @rollup/rollup-*, fsevents
    expect(kiln.purls).toEqual([
      'pkg:npm/%40esbuild/linux-x64@0.28.2',
      'pkg:npm/%40rollup/rollup-linux-x64-gnu@4.40.0',
      'pkg:npm/%40types/estree@1.0.7',
      'pkg:npm/esbuild@0.28.2',
      'pkg:npm/rollup@4.40.0',
    ]);
  }, 60_000);
});

type Restriction = string | readonly string[] | undefined;

/** Sorted purls of the lockfile's entries that npm skips on `platform` (npm-install-checks: `!x` denies, else a list allows). */
function rejectedOn(lockText: string, platform: typeof LINUX_X64_GLIBC): string[] {
  const lock = JSON.parse(lockText) as {
    packages: Record<
      string,
      { name?: string; version: string; os?: Restriction; cpu?: Restriction; libc?: Restriction }
    >;
  };
  const allows = (restriction: Restriction, value: string) => {
    if (restriction === undefined) return true;
    const list = typeof restriction === 'string' ? [restriction] : restriction;
    if (list.includes(`!${value}`)) return false;
    const allowed = list.filter((r) => !r.startsWith('!'));
    return allowed.length === 0 || allowed.includes(value);
  };
  const rejected: string[] = [];
  for (const [location, entry] of Object.entries(lock.packages)) {
    if (allows(entry.os, platform.os) && allows(entry.cpu, platform.cpu) && allows(entry.libc, platform.libc)) continue;
    const name = entry.name ?? location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length);
    rejected.push(`pkg:npm/${name.replace('@', '%40')}@${entry.version}`);
  }
  return rejected.sort();
}
