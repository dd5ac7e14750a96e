// `kiln scan`: which recorded artifacts today's vulnerability data finds vulnerabilities in.
import { findingLine } from '../app/render.js';
import { KilnError } from '../core/errors.js';
import { escapeForTerminal } from '../core/terminal.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println, tell } from './context.js';
import { withKiln } from './kiln.js';

const HELP = `usage: kiln scan --all [--project NAME] [--json]
       kiln scan BUILD-ID [--json]

Re-checks the recorded SBOMs of every artifact (--all, optionally of one project) or of one
build's artifacts against the vulnerability data in the store now (see \`kiln db import\`), and
lists each affected artifact by digest with every finding and the dependency path to it: the
answer to "which of our published artifacts contain this new advisory?". Each SBOM is read from
where the build delivered it, or else from the OCI layout, and only if it has its recorded digest.

options:
  --all            every recorded artifact of every succeeded build
  --project NAME   only this project's artifacts (with --all)
  --json           print the report as JSON on stdout
  -h, --help

exit status: 0 no recorded artifact is affected, 1 some are (listed), 2 usage, 4 environment`;

/** Runs the retroactive scan and prints the affected artifacts. */
export async function scanCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'scan',
    argv,
    { all: { type: 'boolean' }, project: { type: 'string' }, json: { type: 'boolean' } },
    1,
  );
  if (values.help) {
    println(ctx.stdout, HELP);
    return 0;
  }
  const id = positionals[0];
  if (Boolean(values.all) === (id !== undefined)) {
    throw new KilnError('KILN_USAGE', 'kiln scan: give either --all or one BUILD-ID', { hint: HELP });
  }
  const report = await withKiln(ctx, { json: values.json }, (kiln) =>
    kiln.scan(id === undefined ? { all: true, project: values.project } : { buildId: id }),
  );
  if (values.json) {
    println(ctx.stdout, JSON.stringify(report, null, 2));
    return report.affected.length > 0 ? 1 : 0;
  }
  const { database } = report;
  for (const a of report.affected) {
    println(
      ctx.stdout,
      escapeForTerminal(
        `${a.digest} ${a.project}/${a.name} (commit ${a.commit.slice(0, 12)}, build ${a.builds.join(', ')})`,
      ),
    );
    for (const f of a.findings) println(ctx.stdout, `  ${findingLine(a.root, f)}`);
  }
  for (const u of report.unreadable) {
    const message = `cannot scan ${u.digest} (build ${u.build}): ${escapeForTerminal(u.why)}`;
    tell(ctx, { kind: 'warning', message }, message);
  }
  println(
    ctx.stdout,
    `${report.affected.length} of ${report.scanned} recorded artifact(s) affected, against ${database.records} OSV records (revision ${database.revision})`,
  );
  if (database.records === 0) {
    const message = 'no vulnerability data imported: run `kiln db import <OSV dir or zip>` first';
    tell(ctx, { kind: 'warning', message }, message);
  }
  return report.affected.length > 0 ? 1 : 0;
}
