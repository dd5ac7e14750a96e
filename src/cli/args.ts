// Argument parsing on node:util parseArgs; unknown flags are usage errors that point at --help.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { KilnError } from '../core/errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `argv` for `command`; `help` is printed by the caller when `--help` is set. */
export function parseCommandArgs<O extends Options>(
  command: string,
  argv: readonly string[],
  options: O,
  maxPositionals: number,
) {
  try {
    const parsed = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (parsed.positionals.length > maxPositionals) {
      throw new KilnError(
        'KILN_USAGE',
        `kiln ${command}: unexpected argument "${parsed.positionals[maxPositionals]}"`,
        {
          hint: `see \`kiln ${command} --help\``,
        },
      );
    }
    return parsed;
  } catch (err) {
    if (err instanceof KilnError) throw err;
    throw new KilnError('KILN_USAGE', `kiln ${command}: ${(err as Error).message}`, {
      hint: `see \`kiln ${command} --help\``,
    });
  }
}
