// `kiln cache stats` and `kiln cache gc --max-size SIZE`: look after the local CAS in $KILN_HOME/cache.
import { KilnError } from '../core/errors.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println } from './context.js';
import { withKiln } from './kiln.js';

const HELP = `usage: kiln cache stats [--json]
       kiln cache gc --max-size SIZE [--json]     SIZE like 500M, 2G, 1048576

stats: blobs, action entries and bytes in the local cache ($KILN_HOME/cache), and access times.
gc: evicts least-recently-used entries until the cache is at most SIZE (and removes temp files left
by killed writers). Entries are checked on every read, so gc never has to be run for correctness.`;

const UNITS: Readonly<Record<string, number>> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Runs a cache subcommand. */
export async function cacheCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'cache',
    argv,
    { 'max-size': { type: 'string' }, json: { type: 'boolean' } },
    1,
  );
  if (values.help) {
    println(ctx.stdout, HELP);
    return 0;
  }
  const sub = positionals[0];
  if (sub === 'stats') {
    const stats = await withKiln(ctx, {}, (kiln) => kiln.cacheStats());
    if (values.json) println(ctx.stdout, JSON.stringify(stats, null, 2));
    else {
      println(ctx.stdout, `cache      ${stats.dir}`);
      println(ctx.stdout, `blobs      ${stats.blobs}`);
      println(ctx.stdout, `actions    ${stats.actions}`);
      println(ctx.stdout, `size       ${formatBytes(stats.bytes)}`);
      println(ctx.stdout, `accessed   ${stats.oldestAccess ?? '-'} … ${stats.newestAccess ?? '-'}`);
    }
    return 0;
  }
  if (sub === 'gc') {
    const maxSize = values['max-size'];
    if (!maxSize) throw new KilnError('KILN_USAGE', 'kiln cache gc: --max-size SIZE is required', { hint: HELP });
    const result = await withKiln(ctx, {}, (kiln) => kiln.cacheGc(parseSize(maxSize)));
    if (values.json) println(ctx.stdout, JSON.stringify(result, null, 2));
    else {
      println(
        ctx.stdout,
        `removed ${result.removed.length} entries: ${formatBytes(result.bytesBefore)} → ${formatBytes(result.bytesAfter)}`,
      );
      if (result.staleTempFiles)
        println(ctx.stdout, `removed ${result.staleTempFiles} temp files left by killed writers`);
    }
    return 0;
  }
  throw new KilnError('KILN_USAGE', `kiln cache: expected "stats" or "gc", got ${sub ?? 'nothing'}`, { hint: HELP });
}

/** `500M` → bytes; a clear usage error for anything else. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i.exec(text.trim());
  const unit = UNITS[(m?.[2] ?? '').toUpperCase()];
  if (!m || unit === undefined) {
    throw new KilnError('KILN_USAGE', `--max-size "${text}" is not a size`, {
      hint: 'write it like 500M, 2G or 1048576 (bytes)',
    });
  }
  return Math.floor(Number(m[1]) * unit);
}

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
