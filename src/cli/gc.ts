// `kiln gc [PATH] [--apply] [--json]`: apply kiln.yaml's retention to the store and the OCI layout (dry run by default).
import { join, resolve } from 'node:path';
import { loadConfigFile } from '../config/index.js';
import { kilnPaths } from '../core/home.js';
import { readLayoutManifests } from '../registry/index.js';
import {
  applyRetention,
  deleteRegistryCopies,
  planRetention,
  type RetentionPhase,
  retentionReport,
} from '../retention/index.js';
import { openSqliteStore, retentionRecords } from '../store/index.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println } from './context.js';
import { registryClient } from './registry.js';

const HELP = `usage: kiln gc [PATH] [--apply [--local-only]] [--json]

Applies the \`retention\` of PATH/kiln.yaml (default PATH: .; the file as it is on disk) to that project's builds:
  - the last retention.keepLast (default 10) succeeded builds of each branch stay; builds of a
    detached HEAD or of a --rev that names no local branch form one group, "(no branch)";
  - a failed or blocked build (it has no artifacts) stays while among the newest keepLast builds
    of its branch;
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
  const projectPath = resolve(ctx.cwd, positionals[0] ?? '.');
  const { config } = await loadConfigFile(join(projectPath, 'kiln.yaml'));
  const paths = kilnPaths(ctx.kilnHome);
  const now = ctx.now();
  const store = await openSqliteStore(paths.store);
  try {
    const [records, manifests] = await Promise.all([
      retentionRecords(store, config.name),
      readLayoutManifests(paths.oci),
    ]);
    const plan = planRetention({
      project: config.name,
      policy: config.retention,
      environments: config.environments,
      now,
      records,
      layout: { dir: paths.oci, manifests },
      outputDir: resolve(projectPath, config.output),
      publishTo: config.publish?.to ?? null,
    });
    // Registries first: if one cannot be reached, nothing local is touched and the next run has the same plan.
    const registries =
      values.apply && !values['local-only']
        ? await deleteRegistryCopies(
            plan,
            (registry) => registryClient(ctx, registry, config.publish?.insecure ?? false),
            config.environments,
          )
        : undefined;
    const applied = values.apply
      ? await applyRetention(plan, { store, buildDir: paths.buildDir, now, onProgress: progressLine(ctx) })
      : undefined;
    if (values.json) {
      const out = { dryRun: !applied, plan, applied: applied ?? null, registries: registries ?? null };
      println(ctx.stdout, JSON.stringify(out, null, 2));
    } else {
      for (const line of retentionReport(plan, applied)) println(ctx.stdout, line);
      for (const ref of registries?.deleted ?? []) println(ctx.stdout, `deleted from the registry: ${ref}`);
      for (const l of registries?.left ?? []) println(ctx.stdout, `left in the registry: ${l.ref} (${l.why})`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

/** Progress on stderr, only for a run that lasts: nothing in its first second, then at most a line a second. */
function progressLine(ctx: CliContext): (phase: RetentionPhase, done: number, total: number) => void {
  const start = ctx.now().getTime();
  let last = start;
  return (phase, done, total) => {
    const t = ctx.now().getTime();
    if (t - start < 1000 || t - last < 1000) return;
    last = t;
    println(ctx.stderr, `kiln: gc: ${phase} ${done}/${total}`);
  };
}
