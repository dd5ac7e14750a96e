// `kiln config schema|check`: the editor JSON Schemas, and validating a kiln.yaml or kiln-server.yaml without
// building or serving.
import { KilnError } from '../core/errors.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println } from './context.js';
import { withKiln } from './kiln.js';

const HELP = `usage: kiln config schema [--server]          print the JSON Schema of kiln.yaml (of kiln-server.yaml with --server)
       kiln config check [DIR|FILE]            validate a kiln.yaml and report every problem
       kiln config check --server FILE         validate a kiln-server.yaml and report every problem

options:
  --server   the server's configuration (kiln-server.yaml) instead of a project's (kiln.yaml)`;

/** Prints the schema or checks a config file. */
export async function configCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('config', argv, { server: { type: 'boolean' } }, 2);
  const [sub, target] = positionals;
  if (values.help) {
    println(ctx.stdout, HELP);
    return 0;
  }
  if (sub === 'schema') {
    if (target !== undefined) throw usage(`kiln config schema: unexpected argument "${target}"`);
    const schema = await withKiln(ctx, {}, (kiln) => (values.server ? kiln.serverConfigSchema() : kiln.configSchema()));
    println(ctx.stdout, JSON.stringify(schema, null, 2));
    return 0;
  }
  if (sub === 'check') {
    if (values.server && target === undefined)
      throw usage('kiln config check --server: give the kiln-server.yaml FILE');
    const file = await withKiln(ctx, {}, (kiln) =>
      values.server && target !== undefined ? kiln.checkServerConfig(target) : kiln.checkConfig(target ?? '.'),
    );
    println(ctx.stdout, `${file}: ok`);
    return 0;
  }
  throw usage(`kiln config: expected "schema" or "check", got ${sub ?? 'nothing'}`);
}

function usage(message: string): KilnError {
  return new KilnError('KILN_USAGE', message, { hint: HELP });
}
