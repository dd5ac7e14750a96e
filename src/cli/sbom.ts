// `kiln sbom [PATH]`: the SBOM a build of PATH would carry, from the lockfiles on disk, without building.
import { resolve } from 'node:path';
import { writeFileAtomic } from '../platform/fsutil.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println } from './context.js';
import { withKiln } from './kiln.js';

const HELP = `usage: kiln sbom [PATH] [--package NAME] [--format cyclonedx|spdx] [--output FILE]

Writes the SBOM of the project in PATH (default: the current directory), read from its lockfiles
as \`kiln build\` reads them but as they are on disk (package-lock.json, pnpm-lock.yaml, yarn.lock,
Cargo.lock, go.sum + go.mod, poetry.lock, uv.lock, requirements.txt): CycloneDX 1.6 JSON (default)
or SPDX 2.3 JSON, validated against its schema, to stdout or FILE. Nothing is built, signed or
recorded, and no network is used, so it lacks what only a build knows: the build-time tools, and
the licenses a build reads from the packages its steps installed (pnpm, yarn). The project is
named after its directory; the timestamp is $SOURCE_DATE_EPOCH when set, else now. In an npm,
pnpm or yarn workspace the SBOM lists the root and every package, each with its own dependencies;
--package gives the SBOM of one package, as a build of an artifact of that package carries it.

options:
  --package NAME  a workspace package (package.json name or directory): its SBOM alone
  --format F      cyclonedx (default) or spdx
  --output FILE   write to FILE (atomically) instead of stdout
  -h, --help

exit status: 0 written, 1 a lockfile is malformed (file:line said), 2 usage`;

/** Makes and prints (or writes) one SBOM. */
export async function sbomCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'sbom',
    argv,
    { format: { type: 'string', default: 'cyclonedx' }, output: { type: 'string' }, package: { type: 'string' } },
    1,
  );
  if (values.help) {
    println(ctx.stdout, HELP);
    return 0;
  }
  const bytes = await withKiln(ctx, {}, (kiln) =>
    kiln.sbom({ projectPath: positionals[0] ?? '.', format: values.format, package: values.package }),
  );
  if (values.output) await writeFileAtomic(resolve(ctx.cwd, values.output), bytes);
  else ctx.stdout.write(bytes);
  return 0;
}
