// How a failure reaches the user: a user error as its stable code, message and hint (exit status by code), a bug as
// a stack trace (exit 70). With --json, stdout carries the error as JSON too. Secrets never reach these messages.
import { EXIT_BUG, exitStatusOf, KilnError } from '../core/errors.js';
import { type CliContext, println, tell } from './context.js';

/** An error as `--json` output carries it. */
export function errorJson(err: KilnError) {
  return { code: err.code, message: err.message, hint: err.hint ?? null, exitStatus: exitStatusOf(err.code) };
}

/** A failure that is not a KilnError, as JSON: code KILN_BUG, with its stack trace. */
function bugJson(err: unknown) {
  const message = `internal error: ${(err as Error)?.message ?? String(err)}`;
  return {
    code: 'KILN_BUG',
    message,
    hint: 'this is a bug, please report it (the stack trace is on stderr)',
    exitStatus: EXIT_BUG,
  };
}

/** Prints `err` (and, for --json, `{"error": …}` on stdout); returns the exit status. */
export function reportFailure(ctx: CliContext, err: unknown, opts: { json?: boolean } = {}): number {
  const error = err instanceof KilnError ? errorJson(err) : bugJson(err);
  if (ctx.env.KILN_LOG === 'json') tell(ctx, { kind: 'error', ...error }, '');
  else if (err instanceof KilnError) {
    println(ctx.stderr, `kiln: error ${err.code}: ${err.message}`);
    if (err.hint) println(ctx.stderr, `  hint: ${err.hint}`);
  } else {
    println(
      ctx.stderr,
      `kiln: internal error (this is a bug, please report it):\n${(err as Error)?.stack ?? String(err)}`,
    );
  }
  if (opts.json) println(ctx.stdout, JSON.stringify({ error }, null, 2));
  return error.exitStatus;
}
