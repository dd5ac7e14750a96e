// Each workspace package's SBOM against what its package manager reports for it (test/fixtures/monorepos/README.md):
// names, versions and dependency edges, set for set.
import { promises as fsp, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SourceView } from '../../../src/plan/source-view.js';
import { makeSbom } from '../../../src/sbom/make.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/monorepos');
const PACKAGES = ['packages/app', 'packages/core'];
const read = (fixture: string, file: string) => readFileSync(join(FIXTURES, fixture, file), 'utf8');
const manifestOf = (fixture: string, dir: string) =>
  JSON.parse(read(fixture, `${dir}/package.json`)) as {
    name: string;
    version: string;
    devDependencies?: Record<string, string>;
  };

/** Packages as `name@version` and edges as `from -> to`. */
interface Tree {
  readonly nodes: Set<string>;
  readonly edges: Set<string>;
}

/** What the SBOM of workspace package `dir` says: all components, the shipped (non-dev) ones, and the edges. */
async function sbomOf(fixture: string, dir: string | undefined) {
  const projectDir = join(FIXTURES, fixture);
  const view = { projectDir, readFile: (p: string) => fsp.readFile(p) } as unknown as SourceView; // what makeSbom uses
  const source = { commit: 'a'.repeat(40), sourceDateEpoch: 1700000000, subdir: '' };
  const sbom = await makeSbom({
    view,
    source,
    config: { name: 'ignored-when-package-json-names-it' },
    kilnVersion: '0.0.0-test',
    workspace: { packages: PACKAGES, describe: dir === undefined ? undefined : [dir] },
  });
  type Named = { 'bom-ref': string; group?: string; name: string; version?: string; scope?: string };
  const bom = sbom.bom as {
    metadata: { component: Named };
    components: Named[];
    dependencies: { ref: string; dependsOn?: string[] }[];
  };
  const id = (c: Named) => `${c.group ? `${c.group}/` : ''}${c.name}@${c.version ?? ''}`;
  const byRef = new Map([bom.metadata.component, ...bom.components].map((c) => [c['bom-ref'], id(c)]));
  const edges = new Set(
    bom.dependencies.flatMap((d) => (d.dependsOn ?? []).map((to) => `${byRef.get(d.ref)} -> ${byRef.get(to)}`)),
  );
  return {
    root: id(bom.metadata.component),
    all: new Set(bom.components.map(id)),
    shipped: new Set(bom.components.filter((c) => c.scope !== 'excluded').map(id)),
    edges,
    bytes: sbom.bytes,
  };
}

type PnpmNode = {
  version: string;
  dependencies?: Record<string, PnpmNode>;
  devDependencies?: Record<string, PnpmNode>;
};

/** `pnpm list --json` (one package): its tree, links named by the linked package's version. */
function pnpmTree(fixture: string, file: string): Tree {
  const [top] = JSON.parse(read(fixture, file)) as (PnpmNode & { name: string })[];
  const versionOf = (name: string, v: string) =>
    v.startsWith('link:')
      ? (PACKAGES.map((d) => manifestOf(fixture, d)).find((m) => m.name === name)?.version ?? v)
      : v;
  const tree: Tree = { nodes: new Set(), edges: new Set() };
  const walk = (from: string, node: PnpmNode) => {
    for (const [name, child] of Object.entries({ ...node.dependencies, ...node.devDependencies })) {
      const to = `${name}@${versionOf(name, child.version)}`;
      tree.nodes.add(to);
      tree.edges.add(`${from} -> ${to}`);
      walk(to, child);
    }
  };
  if (top) walk(`${top.name}@${top.version}`, top);
  return tree;
}

/** `yarn info --recursive --json` from a workspace: one line per package, edges by locator. */
function yarnInfoTree(fixture: string, file: string, self: string): Tree {
  type Line = { value: string; children: { Version: string; Dependencies?: { locator: string }[] } };
  const lines = read(fixture, file)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Line);
  const plain = (locator: string) => locator.replace(/@virtual:[0-9a-f]+#/, '@'); // a peer-dependent's instance
  const version = new Map(lines.map((l) => [l.value, l.children.Version]));
  const id = (locator: string) =>
    `${plain(locator).replace(/@(?:npm|workspace):.*$/, '')}@${version.get(plain(locator))}`;
  const tree: Tree = { nodes: new Set(), edges: new Set() };
  for (const l of lines) {
    if (l.value !== self) tree.nodes.add(id(l.value));
    for (const d of l.children.Dependencies ?? []) tree.edges.add(`${id(l.value)} -> ${id(d.locator)}`);
  }
  return tree;
}

/** `npm ls --all --json -w <dir>`: the package's subtree (deduped entries carry no children). */
function npmLsTree(fixture: string, file: string, name: string): Tree {
  type Node = { version: string; dependencies?: Record<string, Node> };
  const top = (JSON.parse(read(fixture, file)) as Node).dependencies?.[name];
  const tree: Tree = { nodes: new Set(), edges: new Set() };
  const walk = (from: string, node: Node) => {
    for (const [n, child] of Object.entries(node.dependencies ?? {})) {
      const to = `${n}@${child.version}`;
      tree.nodes.add(to);
      tree.edges.add(`${from} -> ${to}`);
      walk(to, child);
    }
  };
  if (top) walk(`${name}@${top.version}`, top);
  return tree;
}

/**
 * npm and yarn list a linked workspace package's devDependencies under it; they build that package, not this one
 * (pnpm and production installs leave them out). The oracle without them: those edges dropped, then what is still
 * reachable from the package.
 */
function withoutLinkedDevDependencies(fixture: string, tree: Tree, self: string): Tree {
  const dropped = new Set(
    PACKAGES.map((d) => manifestOf(fixture, d))
      .filter((m) => `${m.name}@${m.version}` !== self)
      .flatMap((m) => Object.keys(m.devDependencies ?? {}).map((dev) => `${m.name}@${m.version} -> ${dev}@`)),
  );
  const edges = [...tree.edges].filter((e) => ![...dropped].some((d) => e.startsWith(d)));
  const reached = new Set([self]);
  for (const from of reached)
    for (const e of edges) if (e.startsWith(`${from} -> `)) reached.add(e.split(' -> ')[1] as string);
  reached.delete(self);
  return {
    nodes: reached,
    edges: new Set(edges.filter((e) => reached.has(e.split(' -> ')[0] as string) || e.startsWith(`${self} -> `))),
  };
}

const focusProduction = (fixture: string, file: string, self: string) =>
  new Set(
    read(fixture, file)
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('\t')[0] as string)
      .filter((id) => id !== self),
  );

describe('the SBOM of each package of a pnpm workspace (pnpm 9, overrides)', () => {
  const F = 'pnpm-workspace';
  for (const pkg of ['app', 'core']) {
    it(`${pkg}: what pnpm list --prod ships, and pnpm list's tree with the package's own devDependencies`, async () => {
      const m = manifestOf(F, `packages/${pkg}`);
      const sbom = await sbomOf(F, `packages/${pkg}`);
      expect(sbom.root).toBe(`${m.name}@${m.version}`);
      expect(sbom.shipped).toEqual(pnpmTree(F, `oracle/${pkg}.pnpm-list-prod.json`).nodes);
      const all = pnpmTree(F, `oracle/${pkg}.pnpm-list.json`);
      expect(sbom.all).toEqual(all.nodes);
      expect(sbom.edges).toEqual(all.edges);
    });
  }

  it('gives each package its own document; the root is named from its package.json', async () => {
    const [app, core, root] = await Promise.all(['packages/app', 'packages/core', '.'].map((d) => sbomOf(F, d)));
    expect(app?.bytes.equals(core?.bytes ?? Buffer.alloc(0))).toBe(false);
    expect(app?.all).toContain('@kiln-fixture/core@1.2.0'); // the workspace package, with its version
    expect(app?.all).toContain('ms@2.1.2'); // pnpm.overrides, as pnpm resolved debug's ^2.1.3
    expect(root?.root).toBe('kiln-fixture-pnpm-ws@1.0.0');
    expect(root?.all).toEqual(new Set(['is-number@7.0.0']));
  });
});

describe('the root of a workspace SBOM', () => {
  it('is named from package.json, also when it has no version (a private root seldom has one)', async () => {
    const projectDir = join(FIXTURES, 'pnpm-workspace');
    const rootManifest = join(projectDir, 'package.json');
    const readFile = async (p: string) =>
      p === rootManifest ? Buffer.from('{ "name": "mono", "private": true }') : fsp.readFile(p);
    const view = { projectDir, readFile } as unknown as SourceView;
    const source = { commit: 'a'.repeat(40), sourceDateEpoch: 1700000000, subdir: '' };
    const sbom = await makeSbom({ view, source, config: { name: 'from-kiln-yaml' }, kilnVersion: '0.0.0-test' });
    const bom = sbom.bom as { metadata: { component: { name: string; purl: string } } };
    expect(bom.metadata.component).toMatchObject({ name: 'mono', purl: 'pkg:npm/mono' });
  });
});

describe('a workspace package the lockfile lacks', () => {
  it('is an out-of-date lockfile, with the fix', async () => {
    const projectDir = join(FIXTURES, 'pnpm-workspace');
    const view = { projectDir, readFile: (p: string) => fsp.readFile(p) } as unknown as SourceView;
    const source = { commit: 'a'.repeat(40), sourceDateEpoch: 1700000000, subdir: '' };
    const made = makeSbom({
      view,
      source,
      config: { name: 'mono' },
      kilnVersion: '0.0.0-test',
      workspace: { packages: [...PACKAGES, 'packages/new'] },
    });
    await expect(made).rejects.toMatchObject({
      code: 'KILN_LOCKFILE_INVALID',
      message: expect.stringContaining('has no importer "packages/new"'),
      hint: expect.stringContaining('run `pnpm install`'),
    });
  });
});

describe('the SBOM of each package of a yarn berry workspace with resolutions (yarn 4)', () => {
  const F = 'yarn-berry-resolutions';
  for (const pkg of ['app', 'core']) {
    it(`${pkg}: what yarn workspaces focus --production installs, and yarn info --recursive's tree`, async () => {
      const m = manifestOf(F, `packages/${pkg}`);
      const self = `${m.name}@${m.version}`;
      const sbom = await sbomOf(F, `packages/${pkg}`);
      expect(sbom.root).toBe(self);
      expect(sbom.shipped).toEqual(focusProduction(F, `oracle/${pkg}.focus-production.txt`, self));
      const locator = `${m.name}@workspace:packages/${pkg}`;
      const info = withoutLinkedDevDependencies(
        F,
        yarnInfoTree(F, `oracle/${pkg}.yarn-info-recursive.json`, locator),
        self,
      );
      expect(sbom.all).toEqual(info.nodes);
      expect(sbom.edges).toEqual(info.edges);
    });
  }

  it('applies parent/name and plain resolutions as yarn does', async () => {
    const app = await sbomOf(F, 'packages/app');
    expect(app.edges).toContain('is-odd@3.0.1 -> is-number@7.0.0'); // "is-odd/is-number": "7.0.0"
    expect(app.edges).toContain('debug@4.3.7 -> ms@2.1.2'); // "ms": "2.1.2" over debug's ^2.1.3
    expect(app.all).toContain('is-number@6.0.0'); // app's own devDependency keeps its version
  });
});

describe('the SBOM of each package of an npm workspace with overrides (npm 11)', () => {
  const F = 'npm-workspace-overrides';
  for (const pkg of ['app', 'core']) {
    it(`${pkg}: what npm ls --omit=dev -w ships, and npm ls -w's tree`, async () => {
      const m = manifestOf(F, `packages/${pkg}`);
      const self = `${m.name}@${m.version}`;
      const sbom = await sbomOf(F, `packages/${pkg}`);
      expect(sbom.root).toBe(self);
      expect(sbom.shipped).toEqual(npmLsTree(F, `oracle/${pkg}.npm-ls-omit-dev.json`, m.name).nodes);
      const ls = withoutLinkedDevDependencies(F, npmLsTree(F, `oracle/${pkg}.npm-ls.json`, m.name), self);
      expect(sbom.all).toEqual(ls.nodes);
      expect(sbom.edges).toEqual(ls.edges);
    });
  }
});

describe('the SBOMs of a yarn classic workspace with resolutions (yarn 1)', () => {
  const F = 'yarn-classic-resolutions';
  it('together list what yarn installed, the workspace packages with their versions', async () => {
    const sboms = await Promise.all(['.', ...PACKAGES].map((d) => sbomOf(F, d)));
    const listed = new Set(sboms.flatMap((s) => [...s.all, ...(s.root.startsWith('@kiln-fixture/') ? [s.root] : [])]));
    expect(listed).toEqual(focusProduction(F, 'oracle/installed.txt', ''));
    const app = sboms[1];
    expect(app?.edges).toContain('@kiln-fixture/app@0.3.0 -> @kiln-fixture/core@1.2.0');
    expect(app?.edges).toContain('is-odd@3.0.1 -> is-number@6.0.0'); // yarn 1 did not apply is-odd/is-number
  });
});

describe('the SBOM of a whole workspace (no package named)', () => {
  for (const fixture of [
    'pnpm-workspace',
    'yarn-berry-resolutions',
    'npm-workspace-overrides',
    'yarn-classic-resolutions',
  ]) {
    it(`${fixture}: the root and every package, each package a component with its own dependencies`, async () => {
      const [whole, root, ...packages] = await Promise.all(
        [undefined, '.', ...PACKAGES].map((d) => sbomOf(fixture, d)),
      );
      const union = new Set([root, ...packages].flatMap((s) => [...(s?.all ?? [])]));
      for (const p of packages) union.add(p?.root ?? '');
      expect(whole?.root).toBe(root?.root);
      expect(whole?.all).toEqual(union);
      for (const p of packages) for (const e of p?.edges ?? []) expect(whole?.edges).toContain(e);
    });
  }
});
