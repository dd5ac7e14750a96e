// Bundles the compiled CLI (dist/) into one ES module, dist/cli/kiln.mjs, so start-up does not resolve and link
// hundreds of files. It sits at the same depth as dist/cli/main.js, so `new URL('../../…', import.meta.url)`
// (the vendored schemas, package.json) resolves the same. bin/kiln.js falls back to dist/cli/main.js without it.
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: 'dist/cli/kiln.mjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: ['better-sqlite3'], // a native addon: loaded from node_modules at run time
  banner: {
    js: "import { createRequire as __kilnRequire } from 'node:module'; const require = __kilnRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
