// `kiln keys generate`: create a signing key pair on disk.
import { KilnError } from '../core/errors.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println } from './context.js';
import { withKiln } from './kiln.js';

const HELP = `usage: kiln keys generate --out PREFIX [--algorithm ecdsa-p256|ed25519] [--force] [--json]

Writes PREFIX.key (PKCS#8 PEM, mode 0600) and PREFIX.pub (SPKI PEM). Sign with
\`kiln build --key PREFIX.key\`; verifiers use \`kiln verify FILE --key PREFIX.pub\`.`;

/** Generates a key pair. */
export async function keysCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'keys',
    argv,
    {
      out: { type: 'string' },
      algorithm: { type: 'string', default: 'ecdsa-p256' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
    },
    1,
  );
  if (values.help) {
    println(ctx.stdout, HELP);
    return 0;
  }
  if (positionals[0] !== 'generate') {
    throw new KilnError('KILN_USAGE', `kiln keys: expected "generate", got ${positionals[0] ?? 'nothing'}`, {
      hint: HELP,
    });
  }
  const prefix = values.out;
  if (!prefix) throw new KilnError('KILN_USAGE', 'kiln keys generate: --out PREFIX is required', { hint: HELP });
  const written = await withKiln(ctx, {}, (kiln) =>
    kiln.generateKeys({ prefix, algorithm: values.algorithm, force: Boolean(values.force) }),
  );
  if (values.json) println(ctx.stdout, JSON.stringify(written, null, 2));
  else {
    println(ctx.stdout, `wrote ${written.keyPath} (private, mode 0600) and ${written.pubPath}`);
    println(ctx.stdout, `key hint ${written.keyHint}`);
  }
  return 0;
}
