// Reads the import graph of a source tree and checks it against Kiln's layering: surfaces → app → stages → shared
// → core, no import cycles between files or between stage folders. Used by the architecture test on src/, and by that
// test's own cases on small trees that break each rule (so the check is known to fail when it should).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import * as ts from 'typescript';

/** Layers from the bottom; an import may only point to a lower layer, or stay in its own folder. */
export const LAYERS: readonly { readonly layer: string; readonly folders: readonly string[] }[] = [
  { layer: 'core', folders: ['core'] },
  { layer: 'platform', folders: ['platform'] },
  { layer: 'shared', folders: ['ecosystems', 'license'] },
  {
    layer: 'stage',
    folders: [
      'config',
      'source',
      'plan',
      'sandbox',
      'execute',
      'cache',
      'package',
      'sbom',
      'scan',
      'attest',
      'registry',
      'policy',
      'store',
      'retention',
      'observe',
    ],
  },
  { layer: 'app', folders: ['app'] },
  { layer: 'surface', folders: ['cli', 'server', 'farm', 'dashboard'] },
];

/** What a surface may import besides its own folder: the application layer, and the pure or OS-level helpers. */
const SURFACE_MAY_IMPORT = new Set(['app', 'core', 'platform']);

/**
 * What some surfaces may import besides: the CLI starts the server and its workers (`kiln serve`), and farm/ (the build queue) keeps
 * its jobs in the store and reads config. Nothing else imports a surface.
 */
const SURFACE_ALSO_MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  cli: ['server', 'farm'],
  farm: ['store', 'config'],
};

/** One import edge between two files of the tree (paths relative to its root). */
export interface ImportEdge {
  readonly from: string;
  readonly to: string;
}

/** Every relative import (static, dynamic, type-only, re-export) of every .ts file under `root`. */
export function readImportGraph(root: string): { files: string[]; edges: ImportEdge[] } {
  const files = (readdirSync(root, { recursive: true, encoding: 'utf8' }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => f.split('\\').join('/'))
    .sort();
  const known = new Set(files);
  const edges: ImportEdge[] = [];
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    const specs = new Set(ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName));
    // `typeof import('./x.js')` in a type position is an edge too.
    for (const m of text.matchAll(/import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) specs.add(m[1] as string);
    for (const spec of specs) {
      if (!spec.startsWith('.')) continue;
      const target = normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts');
      if (known.has(target)) edges.push({ from: file, to: target });
    }
  }
  return { files, edges };
}

/** The top-level folder of a file (`sbom` for `sbom/formats/spdx/document.ts`). */
function folderOf(file: string): string {
  return file.split('/')[0] ?? file;
}

function layerOf(folder: string): number {
  return LAYERS.findIndex((l) => l.folders.includes(folder));
}

/** Every rule the graph breaks, one line each; empty when the architecture holds. */
export function architectureProblems(graph: { files: string[]; edges: ImportEdge[] }): string[] {
  const problems: string[] = [];
  for (const file of graph.files) {
    if (file.includes('/') && layerOf(folderOf(file)) === -1) {
      problems.push(`${file}: folder ${folderOf(file)}/ has no layer (add it to LAYERS)`);
    }
  }
  for (const { from, to } of graph.edges) {
    const a = folderOf(from);
    const b = folderOf(to);
    if (a === b) continue;
    const la = layerOf(a);
    const lb = layerOf(b);
    const surface = LAYERS[la]?.layer === 'surface';
    if (
      surface
        ? !(SURFACE_MAY_IMPORT.has(b) || SURFACE_ALSO_MAY_IMPORT[a]?.includes(b))
        : lb > la || (lb === la && LAYERS[la]?.layer !== 'stage')
    ) {
      problems.push(`back-edge: ${from} imports ${to} (${LAYERS[la]?.layer} ${a}/ → ${LAYERS[lb]?.layer} ${b}/)`);
    }
  }
  for (const cycle of cycles(graph.files, graph.edges)) problems.push(`file cycle: ${cycle.join(' → ')}`);
  const folderEdges = graph.edges
    .map((e) => ({ from: folderOf(e.from), to: folderOf(e.to) }))
    .filter((e) => e.from !== e.to);
  const folders = [...new Set(graph.files.map(folderOf))];
  for (const cycle of cycles(folders, folderEdges)) {
    const witness = cycle.map((f, i) => {
      const next = cycle[(i + 1) % cycle.length];
      const edge = graph.edges.find((e) => folderOf(e.from) === f && folderOf(e.to) === next);
      return `${f}/ (${edge ? `${relative(f, edge.from)} → ${edge.to}` : '?'})`;
    });
    problems.push(`folder cycle: ${witness.join(' → ')}`);
  }
  return problems;
}

/** The strongly connected components with more than one node (or a self-loop): Tarjan's algorithm. */
function cycles(nodes: readonly string[], edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>(nodes.map((n) => [n, []]));
  for (const e of edges) next.get(e.from)?.push(e.to);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    for (let w = stack.pop(); w !== undefined; w = stack.pop()) {
      onStack.delete(w);
      scc.push(w);
      if (w === v) break;
    }
    if (scc.length > 1 || (next.get(v) ?? []).includes(v)) found.push(scc.reverse());
  };
  for (const n of nodes) if (!index.has(n)) visit(n);
  return found;
}

/** Files allowed to read process state (`process.*`): the CLI, and the one OS adapter of platform/. */
const PROCESS_ALLOWED = [/^cli\//, /^platform\/processes\.ts$/];

/** The composition root: the one place that opens the store. */
const STORE_OPENERS = ['app/embedded.ts'];

/** Rules about what files say rather than import: who reads process state, who opens the store. */
export function sourceProblems(root: string, files: readonly string[]): string[] {
  const problems: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    const code = withoutComments(text);
    if (readsProcess(file, text) && !PROCESS_ALLOWED.some((re) => re.test(file))) {
      problems.push(
        `${file} reads process state (process.*): pass it in from the CLI, or add to platform/processes.ts`,
      );
    }
    const opens = code.match(/\bopen(Sqlite|Postgres)?Store\(/g)?.length ?? 0;
    const defines = code.match(/export (async )?function open(Sqlite|Postgres)?Store\(/g)?.length ?? 0;
    if (opens - defines > 0 && !STORE_OPENERS.includes(file) && !file.startsWith('store/')) {
      problems.push(`${file} opens the store: only the composition root (${STORE_OPENERS.join(', ')}) may`);
    }
  }
  return problems;
}

/** Source text without // and /* *\/ comments (strings are kept; a URL in a string is not a comment). */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/**
 * True when a file uses the `process` global or imports `node:process` (so `const { env } = process` and
 * `import { env } from 'node:process'` count, while `step.process` or the word in a string does not).
 */
function readsProcess(file: string, text: string): boolean {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  let found = false;
  const visit = (node: ts.Node): void => {
    if (found) return;
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      if (['process', 'node:process'].includes(node.moduleSpecifier.text)) found = true;
    } else if (ts.isIdentifier(node) && node.text === 'process' && isValueUse(node)) {
      found = true;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** An identifier used as a value: not a property name (`x.process`, `{ process: 1 }`) nor a declared name. */
function isValueUse(node: ts.Identifier): boolean {
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) return false;
  if ((ts.isPropertyAssignment(parent) || ts.isPropertySignature(parent)) && parent.name === node) return false;
  if ((ts.isMethodDeclaration(parent) || ts.isPropertyDeclaration(parent)) && parent.name === node) return false;
  if (ts.isQualifiedName(parent)) return false; // NodeJS.Process and the like are types
  return (
    !(ts.isVariableDeclaration(parent) || ts.isParameter(parent) || ts.isBindingElement(parent)) || parent.name !== node
  );
}
