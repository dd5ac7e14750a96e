// The real source as plain ESM JS in a temp dir, for tests that run Kiln's code in child processes (concurrency,
// crashes) without a build step or a TypeScript loader. The whole src/ tree is written, so moving a file never
// breaks a test's list; node_modules resolves through a link.
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ts from 'typescript';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Writes every src/**\/*.ts of the repository as `.js` under `outDir` (same layout); returns `outDir`. */
export function transpileSources(outDir: string): string {
  const src = join(ROOT, 'src');
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  for (const file of files) {
    const { outputText } = ts.transpileModule(readFileSync(join(src, file), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    const out = join(outDir, file.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
  writeFileSync(join(outDir, 'package.json'), '{"type":"module"}');
  symlinkSync(join(ROOT, 'node_modules'), join(outDir, 'node_modules'));
  return outDir;
}
