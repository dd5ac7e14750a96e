// The Kiln a command talks to: the embedded defaults over this process's home, environment and directory, with
// its events shown on stderr (or written there as JSON lines when KILN_LOG=json).
import { createKiln, embeddedPorts, type Kiln, type KilnPorts } from '../app/index.js';
import { eventSink, type TimedEvent } from '../core/events.js';
import { type CliContext, println } from './context.js';
import { checkedDatabase } from './database.js';
import { progressDisplay } from './progress.js';

/** How a command shows its events: `json` commands print only warnings; `explain` adds cache-miss reasons. */
export interface DisplayOptions {
  readonly json?: boolean | undefined;
  readonly explain?: boolean | undefined;
  /** The build's own --json: progress stays on stderr, as plain lines. */
  readonly buildProgress?: boolean | undefined;
  /** A long-running service: plain lines even on a terminal, never a redrawn display. */
  readonly lines?: boolean | undefined;
}

/** How a command's Kiln is made: its display, and the store it uses instead of the home's SQLite file. */
export interface KilnOptions extends DisplayOptions {
  /**
   * A postgres:// URL (a command's `--database`) for the store, else KILN_DATABASE for every command; keys, caches and
   * work dirs stay in KILN_HOME.
   */
  readonly database?: string | undefined;
}

/** Runs `use` with a Kiln for this command (its events shown as asked), then closes it and stops the display. */
export async function withKiln<T>(
  ctx: CliContext,
  show: KilnOptions,
  use: (kiln: Kiln, ports: KilnPorts) => Promise<T>,
): Promise<T> {
  const display = progressDisplay(ctx.stderr, {
    live: Boolean(ctx.stderr.isTTY) && !show.json && !show.lines,
    explain: Boolean(show.explain),
    quiet: Boolean(show.json) && !show.buildProgress,
  });
  const listener =
    ctx.env.KILN_LOG === 'json'
      ? (event: TimedEvent) => println(ctx.stderr, JSON.stringify(event))
      : (event: TimedEvent) => display.onEvent(event);
  const embedded = embeddedPorts({
    home: ctx.kilnHome,
    env: ctx.env,
    cwd: ctx.cwd,
    version: ctx.version,
    now: ctx.now,
    events: eventSink(ctx.now, listener),
    database: show.database ?? checkedDatabase('KILN_DATABASE', ctx.env.KILN_DATABASE || undefined),
  });
  // One store for the Kiln and whatever else the command runs over it (the queue of `kiln serve`).
  let opened: ReturnType<KilnPorts['store']> | undefined;
  const ports: KilnPorts = { ...embedded, store: () => (opened ??= embedded.store()) };
  const kiln = createKiln(ports);
  try {
    return await use(kiln, ports);
  } finally {
    display.stop();
    await kiln.close();
  }
}
