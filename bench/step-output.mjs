// Reading a step's output: wall time and Kiln's peak memory for N MB printed with newlines and as one line, through
// the host runner from dist/ (compile first). Usage: node bench/step-output.mjs [MB...] (default 40 300)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostRunner } from '../dist/sandbox/index.js';

const sizes = process.argv.slice(2).map(Number);
const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-output-'));
const runner = hostRunner();
try {
  for (const mb of sizes.length ? sizes : [40, 300]) {
    for (const [shape, command] of [
      ['80-character lines', `yes ${'x'.repeat(79)} | head -c ${mb}000000`],
      ['one line', `head -c ${mb}000000 /dev/zero | tr '\\0' a`],
    ]) {
      const started = process.hrtime.bigint();
      const outcome = await runner.run({
        name: 'flood',
        command,
        cwd: dir,
        env: {},
        network: false,
        logFile: join(dir, 'log'),
      });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const tail = outcome.logTail.reduce((n, line) => n + line.length, 0);
      console.log(
        `${mb} MB, ${shape}: ${seconds.toFixed(2)} s, peak RSS so far ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB, tail ${tail} chars`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
