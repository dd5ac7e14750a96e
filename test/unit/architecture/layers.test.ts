// Dependencies point one way (surfaces → app → stages → shared → core), with no import cycles; only the CLI reads
// process state; only the composition root opens the store. Each rule is also shown to fail on a tree that breaks it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { architectureProblems, readImportGraph, sourceProblems } from '../../helpers/architecture.js';
import { tempDir } from '../../helpers/tmp.js';

const SRC = fileURLToPath(new URL('../../../src', import.meta.url));

/** A source tree of `files` (path → text) in a temp dir. */
function tree(files: Record<string, string>): string {
  const root = tempDir('kiln-arch-');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function problemsOf(files: Record<string, string>): string[] {
  const root = tree(files);
  const graph = readImportGraph(root);
  return [...architectureProblems(graph), ...sourceProblems(root, graph.files)];
}

describe('the architecture of src/', () => {
  it('has no back-edge, no file cycle and no folder cycle', () => {
    const graph = readImportGraph(SRC);
    expect(graph.edges.length).toBeGreaterThan(500); // the reader sees the real graph, not an empty one
    expect(architectureProblems(graph)).toEqual([]);
  });

  it('reads process state only in the CLI and platform/processes.ts, and opens the store only in the composition root', () => {
    const graph = readImportGraph(SRC);
    expect(sourceProblems(SRC, graph.files)).toEqual([]);
  });
});

describe('the architecture check', () => {
  const ok = {
    'core/errors.ts': 'export const x = 1;\n',
    'sbom/make.ts': "import { x } from '../core/errors.js';\nexport const y = x;\n",
    'app/build.ts': "import { y } from '../sbom/make.js';\nexport const z = y;\n",
    'cli/build.ts': "import { z } from '../app/build.js';\nconsole.log(z, process.argv);\n",
  };

  it('passes a tree that follows the layers', () => {
    expect(problemsOf(ok)).toEqual([]);
  });

  it('fails when a stage imports the application layer or a surface', () => {
    const problems = problemsOf({
      ...ok,
      'sbom/uses-app.ts': "import { z } from '../app/build.js';\nexport const w = z;\n",
      'scan/uses-cli.ts': "export type T = typeof import('../cli/build.js');\n",
    });
    expect(problems).toContain('back-edge: sbom/uses-app.ts imports app/build.ts (stage sbom/ → app app/)');
    expect(problems).toContain('back-edge: scan/uses-cli.ts imports cli/build.ts (stage scan/ → surface cli/)');
  });

  it('fails when core or platform reaches up, or a surface skips the application layer', () => {
    const problems = problemsOf({
      ...ok,
      'core/json.ts': "import { y } from '../sbom/make.js';\nexport const j = y;\n",
      'cli/scan.ts': "import { y } from '../sbom/make.js';\nexport const s = y;\n",
    });
    expect(problems).toContain('back-edge: core/json.ts imports sbom/make.ts (core core/ → stage sbom/)');
    expect(problems).toContain('back-edge: cli/scan.ts imports sbom/make.ts (surface cli/ → stage sbom/)');
  });

  it('lets the CLI import the server, and nothing else import a surface', () => {
    const problems = problemsOf({
      ...ok,
      'server/webhooks/receive.ts': "import { x } from '../../core/errors.js';\nexport const r = x;\n",
      'cli/serve.ts': "import { r } from '../server/webhooks/receive.js';\nexport const s = r;\n",
      'server/uses-cli.ts': "import { z } from '../cli/build.js';\nexport const u = z;\n",
      'server/uses-stage.ts': "import { y } from '../sbom/make.js';\nexport const v = y;\n",
      'app/uses-server.ts': "import { r } from '../server/webhooks/receive.js';\nexport const w = r;\n",
    });
    expect(problems).toContain('back-edge: server/uses-cli.ts imports cli/build.ts (surface server/ → surface cli/)');
    expect(problems).toContain('back-edge: server/uses-stage.ts imports sbom/make.ts (surface server/ → stage sbom/)');
    expect(problems).toContain(
      'back-edge: app/uses-server.ts imports server/webhooks/receive.ts (app app/ → surface server/)',
    );
    expect(problems.filter((p) => p.includes('cli/serve.ts'))).toEqual([]);
  });

  it('lets farm/ alone of the surfaces import the store and config, and no other stage', () => {
    const problems = problemsOf({
      ...ok,
      'store/jobs.ts': "import { x } from '../core/errors.js';\nexport const j = x;\n",
      'config/load.ts': "import { x } from '../core/errors.js';\nexport const c = x;\n",
      'farm/queue.ts':
        "import { j } from '../store/jobs.js';\nimport { c } from '../config/load.js';\nexport const q = [j, c];\n",
      'farm/sbom.ts': "import { y } from '../sbom/make.js';\nexport const s = y;\n",
      'cli/jobs.ts': "import { j } from '../store/jobs.js';\nexport const l = j;\n",
    });
    expect(problems.filter((p) => p.includes('farm/queue.ts'))).toEqual([]);
    expect(problems).toContain('back-edge: farm/sbom.ts imports sbom/make.ts (surface farm/ → stage sbom/)');
    expect(problems).toContain('back-edge: cli/jobs.ts imports store/jobs.ts (surface cli/ → stage store/)');
  });

  it('fails on a file cycle, type-only and dynamic imports included', () => {
    const problems = problemsOf({
      ...ok,
      'plan/a.ts': "import type { B } from './b.js';\nexport type A = B;\n",
      'plan/b.ts': "export type B = Awaited<typeof import('./a.js')>;\n",
    });
    expect(problems).toContain('file cycle: plan/a.ts → plan/b.ts');
  });

  it('fails on a cycle between stage folders', () => {
    const problems = problemsOf({
      ...ok,
      'sbom/purl.ts': "import { v } from '../scan/versions.js';\nexport const p = v;\n",
      'scan/versions.ts': "import { x } from '../core/errors.js';\nexport const v = x;\n",
      'scan/match.ts': "import { p } from '../sbom/purl.js';\nexport const m = p;\n",
    });
    expect(problems.some((p) => p.startsWith('folder cycle: ') && p.includes('sbom/') && p.includes('scan/'))).toBe(
      true,
    );
  });

  it('fails on a folder that has no layer, process state outside the CLI, and a second store opener', () => {
    const problems = problemsOf({
      ...ok,
      'misc/util.ts': 'export const u = process.env.HOME;\n',
      'sbom/env.ts': "import { env } from 'node:process';\nexport const e = env;\n",
      'scan/env.ts': 'const { env } = process;\nexport const f = env;\n',
      'cache/words.ts': "export const w = { process: 'the process group' };\nexport const v = w.process;\n",
      'app/worker.ts': "import { openSqliteStore } from '../store/store.js';\nexport const s = openSqliteStore('x');\n",
      'store/store.ts': 'export async function openSqliteStore(file: string) { return file; }\n',
    });
    expect(problems).toContain('misc/util.ts: folder misc/ has no layer (add it to LAYERS)');
    expect(problems).toContain(
      'misc/util.ts reads process state (process.*): pass it in from the CLI, or add to platform/processes.ts',
    );
    expect(problems).toContain('app/worker.ts opens the store: only the composition root (app/embedded.ts) may');
  });
});
