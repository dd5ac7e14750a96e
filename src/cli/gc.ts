// `kiln gc [PATH] [--apply] [--json]`: apply kiln.yaml's retention to the store and the OCI layout (dry run by default).
import { parseCommandArgs } from './args.js';
import { type CliContext, println } from './context.js';
import { withKiln } from './kiln.js';

const HELP = `usage: kiln gc [PATH] [--apply [--local-only]] [--json]

Applies the \`retention\` of PATH/kiln.yaml (default PATH: .; the file as it is on disk) to that project's builds:
  - the last retention.keepLast (default 10) succeeded builds of each branch stay; builds of a
    detached HEAD or of a --rev that names no local branch form one group, "(no branch)";
  - a failed or blocked build (it has no artifacts) stays while among the newest keepLast builds
    of its branch; a running build always stays;
  - what each environment runs now (its latest promotion) stays, and so does everything promoted to
    a protected environment until retention.rollbackDays (default 30) after its last promotion there;
  - evidence (signed provenance, SBOMs, attestations) goes only together with its artifact.
Without --apply nothing changes: the report says what would go and what stays, and why. With --apply,
the manifests leave the OCI layout in $KILN_HOME/oci (index.json first, then the blobs nothing listed
there needs), the builds leave the store with their logs in $KILN_HOME/builds. Before any of that, the
registry copies of what goes (promoted to environments, or in publish.to) are deleted, evidence first,
where the registry allows deletes; a registry that cannot be reached stops gc before anything local
changes. --local-only leaves registries alone (their copies of what goes are then no longer tracked).
Delivered files in the output directory are never touched.

options:
  --apply      remove what the report marks "goes"
  --json       print the plan (and with --apply what was done) as JSON
  -h, --help   show this help

exit status: 0 done, 2 usage or kiln.yaml error, 4 environment problem (store, OCI layout)`;

/** Plans retention for the project at PATH, prints the report, and applies it with --apply. */
export async function gcCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'gc',
    argv,
    { apply: { type: 'boolean' }, 'local-only': { type: 'boolean' }, json: { type: 'boolean' } },
    1,
  );
  if (values.help) {
    println(ctx.stdout, HELP);
    return 0;
  }
  const result = await withKiln(ctx, {}, (kiln) =>
    kiln.gc({
      projectPath: positionals[0] ?? '.',
      apply: Boolean(values.apply),
      localOnly: Boolean(values['local-only']),
    }),
  );
  if (values.json) {
    const { dryRun, plan, applied, registries } = result;
    println(ctx.stdout, JSON.stringify({ dryRun, plan, applied, registries }, null, 2));
  } else for (const line of result.report) println(ctx.stdout, line);
  return 0;
}
