// Bundles the compiled CLI (dist/) into ES modules under dist/cli/: kiln.mjs, the entry, plus one chunk per part only
// some commands need (`kiln --version` never parses the signing or SQLite code). Start-up then neither resolves
// hundreds of files nor parses megabytes it does not run. Every file sits at the same depth as dist/cli/main.js, so
// `new URL('../../…', import.meta.url)` (the vendored schemas, package.json) resolves the same. bin/kiln.js falls
// back to dist/cli/main.js without the bundle.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

for (const name of readdirSync('dist/cli')) if (name.startsWith('kiln-chunk-')) rmSync(`dist/cli/${name}`); // stale chunks
await build({
  entryPoints: { kiln: 'dist/cli/main.js' },
  outdir: 'dist/cli',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'kiln-chunk-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: ['better-sqlite3'], // a native addon: loaded from node_modules at run time
  banner: {
    js: "import { createRequire as __kilnRequire } from 'node:module'; const require = __kilnRequire(import.meta.url);",
  },
  logLevel: 'warning',
});

// A digest of the code just bundled: an identical earlier build is only reused by the same code (app/build/reuse.ts),
// even when the version number did not change (a development build).
const code = createHash('sha256');
for (const name of readdirSync('dist/cli')
  .filter((n) => n.endsWith('.mjs'))
  .sort()) {
  code
    .update(`${name}\0`)
    .update(readFileSync(`dist/cli/${name}`))
    .update('\0');
}
writeFileSync('dist/cli/kiln-code.txt', `sha256:${code.digest('hex')}\n`);
