#!/usr/bin/env node
// Entry point. `npm ci` compiles Kiln (prepare): dist/cli/kiln.mjs is the bundled CLI (fast start-up);
// dist/cli/main.js, the same code unbundled, is used when the bundle is missing (e.g. after a bare `tsc`).
const entry = await import('../dist/cli/kiln.mjs').catch((err) => {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('kiln.mjs'))
    return import('../dist/cli/main.js');
  throw err;
});

process.exitCode = await entry.main(process.argv.slice(2));
