import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { npmPurl } from '../../../src/ecosystems/purl.js';
import { type CycloneDxComponent, cycloneDxDocument, readNpmLockfile } from '../../../src/sbom/index.js';

// Exactness against what really happened: test/fixtures/sbom/npm-installed holds a lockfile npm wrote while
// installing, `npm ls --all --json` of that node_modules and cyclonedx-npm's SBOM of it, all recorded (see its
// README). Kiln's SBOM of the lockfile alone must list the same packages with the same dependency edges.

const FIXTURE = new URL('../../fixtures/sbom/npm-installed/', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, FIXTURE), 'utf8');
const META = { commit: '0'.repeat(40), sourceDateEpoch: 1700000000, toolName: 'kiln', toolVersion: '0.1.0' };

/** purl → the sorted purls it depends on, copies of one package merged (as both SBOMs describe packages, not paths). */
type Edges = Record<string, string[]>;

function merge(edges: Map<string, Set<string>>): Edges {
  return Object.fromEntries([...edges].sort(([a], [b]) => (a < b ? -1 : 1)).map(([p, to]) => [p, [...to].sort()]));
}

type Nested = CycloneDxComponent & { components?: readonly Nested[] };

/** A CycloneDX document's edges by purl (qualifiers dropped), whatever its bom-refs look like. */
function cycloneDxEdges(bom: {
  metadata: { component: CycloneDxComponent };
  components?: readonly Nested[];
  dependencies?: readonly { ref: string; dependsOn?: readonly string[] }[];
}): Edges {
  const purlOf = new Map<string, string>();
  const walk = (list: readonly Nested[]) => {
    for (const c of list) {
      purlOf.set(c['bom-ref'] ?? '', (c.purl ?? '').replace(/[?#].*$/s, ''));
      walk(c.components ?? []); // cyclonedx-npm nests a package installed under another one's node_modules
    }
  };
  walk([bom.metadata.component, ...(bom.components ?? [])]);
  const edges = new Map([...purlOf.values()].map((purl) => [purl, new Set<string>()]));
  for (const d of bom.dependencies ?? []) {
    const from = purlOf.get(d.ref);
    if (from === undefined) throw new Error(`dependency ref ${d.ref} names no component`);
    for (const to of d.dependsOn ?? []) edges.get(from)?.add(purlOf.get(to) ?? `unknown ref ${to}`);
  }
  return merge(edges);
}

interface LsNode {
  readonly name?: string;
  readonly version: string;
  readonly dependencies?: Readonly<Record<string, LsNode>>;
}

/** `npm ls --all --json` as edges by purl; a package npm prints as deduped contributes its edges where it is expanded. */
function npmLsEdges(tree: LsNode): Edges {
  const edges = new Map<string, Set<string>>();
  const visit = (purl: string, node: LsNode) => {
    const to = edges.get(purl) ?? new Set<string>();
    edges.set(purl, to);
    for (const [name, child] of Object.entries(node.dependencies ?? {})) {
      const childPurl = npmPurl(name, child.version);
      to.add(childPurl);
      visit(childPurl, child);
    }
  };
  visit(npmPurl(tree.name ?? '', tree.version), tree);
  return merge(edges);
}

const kiln = cycloneDxEdges(
  cycloneDxDocument(
    readNpmLockfile(read('package-lock.json'), 'package-lock.json', {
      platform: { os: 'linux', cpu: 'x64', libc: 'glibc' },
    }),
    META,
  ),
);

describe('the SBOM of a lockfile npm installed', () => {
  it('has the dependency edges cyclonedx-npm recorded from the installed node_modules', () => {
    expect(kiln).toEqual(cycloneDxEdges(JSON.parse(read('cyclonedx-npm.cdx.json'))));
  });

  it('has the packages and edges of `npm ls --all` of the installed tree', () => {
    expect(kiln).toEqual(npmLsEdges(JSON.parse(read('npm-ls.json'))));
  });

  it('covers nested copies, a scoped package and a package reached twice', () => {
    expect(kiln['pkg:npm/debug@2.6.9']).toEqual(['pkg:npm/ms@2.0.0']); // node_modules/debug/node_modules/ms
    expect(kiln['pkg:npm/is-odd@3.0.1']).toEqual(['pkg:npm/is-number@6.0.0']); // not the root's dev 7.0.0
    expect(kiln['pkg:npm/%40types/debug@4.1.12']).toEqual(['pkg:npm/%40types/ms@2.1.0']); // also direct
    expect(Object.keys(kiln)).toHaveLength(9); // the project and the 8 packages npm added
  });
});
