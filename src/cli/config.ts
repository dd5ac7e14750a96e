// `kiln config schema|check`: the editor JSON Schema, and validating a kiln.yaml without building.
import { join, resolve } from 'node:path';
import { kilnJsonSchema, loadConfigFile } from '../config/index.js';
import { KilnError } from '../core/errors.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println } from './context.js';

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
    println(ctx.stdout, JSON.stringify(kilnJsonSchema(), null, 2));
    return 0;
  }
  if (sub === 'check') {
    const path = resolve(ctx.cwd, target ?? '.');
    const file = path.endsWith('.yaml') || path.endsWith('.yml') ? path : join(path, 'kiln.yaml');
    await loadConfigFile(file);
    println(ctx.stdout, `${file}: ok`);
    return 0;
  }
  throw new KilnError('E_USAGE', `kiln config: expected "schema" or "check", got ${sub ?? 'nothing'}`, { hint: HELP });
}
