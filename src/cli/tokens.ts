// `kiln tokens create|list|revoke`: API tokens of the control plane, kept (hashed) in the store of KILN_HOME, or in
// the PostgreSQL store `kiln serve --database` uses.
import { KilnError } from '../core/errors.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println, table } from './context.js';
import { checkedDatabase } from './database.js';
import { withKiln } from './kiln.js';

const HELP = `usage: kiln tokens create --scope read|trigger|admin [--name NAME] [--json] [--database URL]
       kiln tokens list [--json] [--database URL]
       kiln tokens revoke ID [--database URL]

API tokens for \`kiln serve\` (sent as \`Authorization: Bearer <token>\`). Scopes include the ones
before them: read (builds, logs, queue, workers), trigger (also submit and cancel builds),
admin (everything). \`create\` prints the token alone on stdout, once: the store keeps only its
SHA-256, so it cannot be shown again. \`list\` shows ids, scopes and names; \`revoke\` ends a token.
The tokens are in the store of KILN_HOME, or with --database postgres://… (else KILN_DATABASE)
in that PostgreSQL database: give the one \`kiln serve --database\` uses.`;

/** Creates, lists or revokes API tokens. */
export async function tokensCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'tokens',
    argv,
    { scope: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' }, database: { type: 'string' } },
    2,
  );
  if (values.help) {
    println(ctx.stdout, HELP);
    return 0;
  }
  const [sub, id] = positionals;
  const database = checkedDatabase('--database', values.database); // else KILN_DATABASE (withKiln)
  if (sub === 'create') {
    const scope = values.scope;
    if (!scope) throw new KilnError('KILN_USAGE', 'kiln tokens create: --scope is required', { hint: HELP });
    const { token, info } = await withKiln(ctx, { json: values.json, database }, (kiln) =>
      kiln.createToken({ scope, name: values.name }),
    );
    println(ctx.stdout, values.json ? JSON.stringify({ token, ...info }, null, 2) : token);
    return 0;
  }
  if (sub === 'list') {
    const tokens = await withKiln(ctx, { json: values.json, database }, (kiln) => kiln.listTokens());
    if (values.json) println(ctx.stdout, JSON.stringify(tokens, null, 2));
    else if (tokens.length === 0) println(ctx.stdout, 'no API tokens (create one with `kiln tokens create --scope …`)');
    else {
      table(
        ctx,
        ['ID', 'SCOPE', 'NAME', 'CREATED', 'REVOKED'],
        tokens.map((t) => [t.id, t.scope, t.name, t.created_at, t.revoked_at ?? '']),
      );
    }
    return 0;
  }
  if (sub === 'revoke') {
    if (!id) throw new KilnError('KILN_USAGE', 'kiln tokens revoke: missing token id', { hint: HELP });
    await withKiln(ctx, { database }, (kiln) => kiln.revokeToken(id));
    println(ctx.stdout, `revoked ${id}`);
    return 0;
  }
  throw new KilnError('KILN_USAGE', `kiln tokens: expected "create", "list" or "revoke", got ${sub ?? 'nothing'}`, {
    hint: HELP,
  });
}
