// Where the CLI reads its process state (with platform/processes.ts, the only code that does): everything below the
// CLI receives these values as parameters.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { KilnEvent } from '../core/events.js';
import { escapeForTerminal } from '../core/terminal.js';
import { closeInheritedFds } from '../platform/processes.js';

/** What a command may touch of the outside world. */
export interface CliContext {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly kilnHome: string;
  readonly version: string;
  readonly now: () => Date;
}

/** Builds the context from the real process. */
export function processContext(version: string): CliContext {
  closeInheritedFds(); // `kiln build 20</secret`: Kiln uses none of them, and nothing it starts may get them
  const env = process.env;
  // A reader that stops early (`kiln builds | head`) closes the pipe: stop quietly, as other CLI tools do.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
  return {
    cwd: process.cwd(),
    env,
    stdout: process.stdout,
    stderr: process.stderr,
    kilnHome: resolve(env.KILN_HOME || join(homedir(), '.kiln')),
    version,
    now: () => new Date(),
  };
}

/**
 * Writes one line to a stream, with every character that could steer a terminal made visible: messages carry
 * untrusted names. Line feeds and tabs stay (a message may span lines; escape an untrusted field on its own so it
 * cannot start one), and JSON text stays valid JSON meaning the same values.
 */
export function println(stream: NodeJS.WritableStream, line = ''): void {
  stream.write(`${escapeForTerminal(line, { keepLines: true })}\n`);
}

/** A table on stdout: a head line, then one line per row, columns padded to their widest cell. */
export function table(ctx: CliContext, head: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: readonly string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  println(ctx.stdout, fmt(head));
  for (const r of rows) println(ctx.stdout, fmt(r));
}

/**
 * A line for people on stderr (`kiln: TEXT`), or, when `KILN_LOG=json` asks for a machine-readable log, the event it
 * stands for as one JSON line: stderr then holds nothing else.
 */
export function tell(ctx: CliContext, event: KilnEvent, text: string): void {
  if (ctx.env.KILN_LOG === 'json') println(ctx.stderr, JSON.stringify({ ...event, at: ctx.now().toISOString() }));
  else println(ctx.stderr, `kiln: ${text}`);
}
