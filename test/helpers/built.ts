// Global setup of the integration and e2e tiers: they run the compiled Kiln (the CLI in dist/, and dist/ modules in
// child processes), so it must be built from the current source. Builds when dist/ is missing or older than any
// source file; `npm test` has just built it, so this only matters when a tier is run on its own.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Written last by `npm run build` (scripts/bundle.mjs). */
const STAMP = join(ROOT, 'dist/cli/kiln-code.txt');

function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/** Vitest global setup: rebuild dist/ when it is stale. */
export default function setup(): void {
  const built = (() => {
    try {
      return statSync(STAMP).mtimeMs;
    } catch {
      return 0;
    }
  })();
  const sources = ['src', 'scripts', 'package.json', 'tsconfig.json'].map((p) => newest(join(ROOT, p)));
  if (Math.max(...sources) <= built) return;
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
}
