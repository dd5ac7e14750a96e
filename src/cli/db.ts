// `kiln db import|status`: the vulnerability data (OSV records) builds and `kiln scan` match against.
import { KilnError } from '../core/errors.js';
import { escapeForTerminal } from '../core/terminal.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println, tell } from './context.js';
import { withKiln } from './kiln.js';

const HELP = `usage: kiln db import <DIR|ZIP|FILE.json> [--json]
       kiln db status [--json]

import  Loads OSV vulnerability records (https://ossf.github.io/osv-schema/) into the store:
        every *.json file under DIR, every *.json entry of ZIP (e.g. an ecosystem's all.zip
        from https://osv-vulnerabilities.storage.googleapis.com/), or one JSON file holding a
        record or an array of records. Each record is checked against the OSV schema; records
        that fail are listed with every problem and not imported. A record already stored is replaced only by a newer one (\`modified\`).
        Safe to interrupt and run again. Builds and \`kiln scan\` use no network: only this data.
status  How many records the store holds and when they were last imported.

options:
  --json   print the result as JSON on stdout
  -h, --help

exit status: 0 imported, 1 some records were rejected (the others were imported), 2 usage,
4 environment (store, unreadable source)`;

/** Runs `kiln db <subcommand>`. */
export async function dbCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('db', argv, { json: { type: 'boolean' } }, 2);
  const [sub, source] = positionals;
  if (values.help) {
    println(ctx.stdout, HELP);
    return 0;
  }
  if (sub === undefined) throw new KilnError('KILN_USAGE', 'kiln db: missing subcommand', { hint: HELP });
  if (sub !== 'import' && sub !== 'status') {
    throw new KilnError('KILN_USAGE', `kiln db: unknown subcommand "${sub}"`, {
      hint: 'use `kiln db import` or `kiln db status`',
    });
  }
  if (sub === 'import' && !source)
    throw new KilnError('KILN_USAGE', 'kiln db import: missing DIR or ZIP', { hint: HELP });
  return withKiln(ctx, { json: values.json }, async (kiln) => {
    if (sub === 'status') {
      const { records, revision, lastUpdate } = await kiln.vulnerabilityData();
      const status = { records, revision, lastImport: lastUpdate ?? null };
      if (values.json) println(ctx.stdout, JSON.stringify(status, null, 2));
      else println(ctx.stdout, `${records} OSV records (revision ${revision}), last import: ${lastUpdate ?? 'never'}`);
      return 0;
    }
    const report = await kiln.importVulnerabilities(source as string);
    if (values.json) println(ctx.stdout, JSON.stringify(report, null, 2));
    else {
      for (const r of report.rejected) {
        // File and entry names and the record's keys (in problem paths) come from the data: one line each, escaped.
        const problems = r.problems.map((p) => `  ${escapeForTerminal(p)}`);
        const message = `rejected ${escapeForTerminal(r.origin)}:\n${problems.join('\n')}`;
        tell(ctx, { kind: 'warning', message }, message);
      }
      println(
        ctx.stdout,
        `imported ${report.source}: ${report.added} added, ${report.updated} updated, ${report.unchanged} unchanged, ${report.rejected.length} rejected`,
      );
    }
    return report.rejected.length > 0 ? 1 : 0;
  });
}
