// `kiln sbom [PATH]`: the SBOM a build of PATH would carry, from the lockfiles on disk, without building.
import { promises as fsp } from 'node:fs';
import { basename, resolve } from 'node:path';
import { KilnError } from '../core/errors.js';
import { writeFileAtomic } from '../platform/fsutil.js';
import { makeSbom } from '../sbom/make.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println } from './context.js';

const HELP = `usage: kiln sbom [PATH] [--format cyclonedx|spdx] [--output FILE]

Writes the SBOM of the project in PATH (default: the current directory) as \`kiln build\` makes it,
from the lockfiles there as they are on disk (package-lock.json, pnpm-lock.yaml, yarn.lock,
Cargo.lock, go.sum + go.mod, poetry.lock, uv.lock, requirements.txt): CycloneDX 1.6 JSON (default)
or SPDX 2.3 JSON, validated against its schema, to stdout or FILE. Nothing is built, signed or
recorded, and no network is used. The timestamp is $SOURCE_DATE_EPOCH when set, else now.

options:
  --format F      cyclonedx (default) or spdx
  --output FILE   write to FILE (atomically) instead of stdout
  -h, --help

exit status: 0 written, 1 a lockfile is malformed (file:line said), 2 usage`;

/** Makes and prints (or writes) one SBOM. */
export async function sbomCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'sbom',
    argv,
    { format: { type: 'string', default: 'cyclonedx' }, output: { type: 'string' } },
    1,
  );
  if (values.help) {
    println(ctx.stdout, HELP);
    return 0;
  }
  if (values.format !== 'cyclonedx' && values.format !== 'spdx') {
    throw new KilnError('E_USAGE', `kiln sbom: unknown --format "${values.format}"`, { hint: 'use cyclonedx or spdx' });
  }
  const projectDir = resolve(ctx.cwd, positionals[0] ?? '.');
  const epoch = Number(ctx.env.SOURCE_DATE_EPOCH);
  const sbom = await makeSbom({
    view: { projectDir, readFile: (path) => fsp.readFile(path) },
    source: {
      commit: '',
      subdir: '',
      sourceDateEpoch: Number.isInteger(epoch) && epoch >= 0 ? epoch : Math.floor(ctx.now().getTime() / 1000),
    },
    config: { name: basename(projectDir) },
    kilnVersion: ctx.version,
  });
  for (const message of sbom.warnings) println(ctx.stderr, `kiln: warning: ${message}`);
  const bytes = values.format === 'spdx' ? sbom.spdx.bytes : sbom.bytes;
  if (values.output) await writeFileAtomic(resolve(ctx.cwd, values.output), bytes);
  else ctx.stdout.write(bytes);
  return 0;
}
