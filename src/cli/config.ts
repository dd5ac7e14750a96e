// `kiln config schema|check`: the editor JSON Schema, and validating a kiln.yaml without building.
import { KilnError } from '../core/errors.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println } from './context.js';
import { withKiln } from './kiln.js';

const HELP = `usage: kiln config schema            print the JSON Schema of kiln.yaml
       kiln config check [DIR|FILE]    validate a kiln.yaml and report every problem`;

/** Prints the schema or checks a config file. */
export async function configCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('config', argv, {}, 2);
  const [sub, target] = positionals;
  if (values.help) {
    println(ctx.stdout, HELP);
    return 0;
  }
  if (sub === 'schema') {
    const schema = await withKiln(ctx, {}, (kiln) => kiln.configSchema());
    println(ctx.stdout, JSON.stringify(schema, null, 2));
    return 0;
  }
  if (sub === 'check') {
    const file = await withKiln(ctx, {}, (kiln) => kiln.checkConfig(target ?? '.'));
    println(ctx.stdout, `${file}: ok`);
    return 0;
  }
  throw new KilnError('KILN_USAGE', `kiln config: expected "schema" or "check", got ${sub ?? 'nothing'}`, {
    hint: HELP,
  });
}
