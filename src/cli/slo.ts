// `kiln slo rules|alertmanager` and `kiln metrics --textfile`: what Prometheus and Alertmanager need, made from
// kiln-server.yaml (its defaults without one) and from the store.
import { KilnError } from '../core/errors.js';
import { writeFileAtomic } from '../platform/fsutil.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println } from './context.js';
import { checkedDatabase } from './database.js';
import { withKiln } from './kiln.js';

const SLO_HELP = `usage: kiln slo rules [--config kiln-server.yaml]
       kiln slo alertmanager [--config kiln-server.yaml]

\`rules\` prints Prometheus rule groups (YAML) for the SLOs of kiln-server.yaml's \`slo\` (its
defaults without --config): the error ratio of each SLI over 5m to 3d, multi-window multi-burn-rate
alerts (14.4x over 1h and 5m or 6x over 6h and 30m page for main and release branches; 3x over 1d
and 2h or 1x over 3d and 6h open a ticket; other branches have their own budget and only open
tickets), coverage alerts (scan, signature, SBOM), and cache, flaky-step, worker-disk, queue and
vulnerability-data alerts. Every alert has project, pipeline, team, severity and a runbook_url.
Check them with \`promtool check rules FILE\`.

\`alertmanager\` prints an Alertmanager configuration for \`alerting\`: grouped by project and
pipeline, every alert to Kiln's alert log (POST /v1/alerts with the trigger token in
\`alerting.tokenFile\`), each team's alerts to its webhook, a page inhibiting the same project's
tickets. Check it with \`amtool check-config FILE\`.`;

const METRICS_HELP = `usage: kiln metrics [--textfile PATH] [--config kiln-server.yaml] [--database URL]

Prints the metrics \`kiln serve\` exports at /metrics (Prometheus text format), read from the store
of KILN_HOME (or --database, else KILN_DATABASE): the SLIs M1-M10 as counters and histograms summed
over the recorded builds, the queue, the workers and the vulnerability data's age. With --textfile,
writes them to PATH instead, atomically, for node_exporter's textfile collector (a name ending in
.prom in its --collector.textfile.directory); run it from cron. --config labels the projects' teams
and branch classes as the server does.`;

/** `kiln slo rules|alertmanager`. */
export async function sloCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('slo', argv, { config: { type: 'string' } }, 1);
  if (values.help) {
    println(ctx.stdout, SLO_HELP);
    return 0;
  }
  const [sub] = positionals;
  if (sub !== 'rules' && sub !== 'alertmanager') {
    throw new KilnError('KILN_USAGE', `kiln slo: expected "rules" or "alertmanager", got ${sub ?? 'nothing'}`, {
      hint: SLO_HELP,
    });
  }
  const file = values.config;
  const text = await withKiln(ctx, { lines: true }, async (kiln) => {
    const config = file === undefined ? undefined : await kiln.loadServerConfig(file);
    return sub === 'rules' ? kiln.sloRules(config) : kiln.alertmanagerConfig(config);
  });
  ctx.stdout.write(text);
  return 0;
}

/** `kiln metrics [--textfile PATH]`. */
export async function metricsCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    'metrics',
    argv,
    { textfile: { type: 'string' }, config: { type: 'string' }, database: { type: 'string' } },
    0,
  );
  if (values.help) {
    println(ctx.stdout, METRICS_HELP);
    return 0;
  }
  const database = checkedDatabase('--database', values.database);
  const file = values.config;
  const text = await withKiln(ctx, { database }, async (kiln) =>
    kiln.metrics(file === undefined ? undefined : await kiln.loadServerConfig(file)),
  );
  if (values.textfile === undefined) ctx.stdout.write(text);
  else await writeFileAtomic(values.textfile, text);
  return 0;
}
