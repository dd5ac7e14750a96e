// Renders KilnEvents for people: a live step table on a terminal, plain lines otherwise, on stderr (never on stdout,
// which --json keeps for the result). Events for machines (registry requests, cache lookups, signature checks, gc
// actions) are left to `KILN_LOG=json`.
import { type KilnEvent, stepRetryText } from '../core/events.js';
import { escapeForTerminal } from '../core/terminal.js';

interface Row {
  status: 'running' | 'succeeded' | 'cached' | 'failed' | 'skipped';
  started: number;
  durationMs?: number;
  last?: string;
}

/** A progress display over a writable stream; `live` redraws in place (TTY), else one line per event. */
export function progressDisplay(
  stream: NodeJS.WritableStream,
  opts: {
    live: boolean;
    explain?: boolean;
    /** Only warnings (a command printing --json): notices, stages and progress would be noise beside it. */
    quiet?: boolean;
    now?: () => number;
  },
) {
  const now = opts.now ?? Date.now;
  const rows = new Map<string, Row>();
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  // Event fields come from outside (step output, advisory ids, registry messages): nothing may steer the terminal.
  const line = (text: string) => stream.write(`${escapeForTerminal(text, { keepLines: true })}\n`);
  const clear = () => {
    if (drawn > 0) stream.write(`\x1b[${drawn}A\x1b[J`);
    drawn = 0;
  };
  const draw = () => {
    if (!opts.live) return;
    clear();
    const width = (stream as { columns?: number }).columns ?? 100;
    for (const [name, row] of rows) {
      const secs = ((row.durationMs ?? now() - row.started) / 1000).toFixed(1);
      const mark = { running: '…', succeeded: '✓', cached: '↺', failed: '✗', skipped: '-' }[row.status];
      const tail = row.status === 'running' && row.last ? `  ${row.last}` : '';
      const text = `  ${mark} ${name.padEnd(16)} ${row.status.padEnd(9)} ${secs.padStart(6)}s${tail}`;
      stream.write(`${escapeForTerminal(text).slice(0, width - 1)}\n`);
      drawn++;
    }
  };
  const above = (text: string) => {
    clear();
    line(text);
    draw();
  };
  const progress = progressLines(line, now);
  return {
    /** Feeds one event to the display. */
    onEvent(event: KilnEvent): void {
      if (opts.quiet && event.kind !== 'warning') return;
      switch (event.kind) {
        case 'build-started':
          above(
            `kiln: building ${event.project} at ${event.commit.slice(0, 12)}${event.dirty ? ' (dirty tree)' : ''} as ${event.buildId}`,
          );
          if (opts.live) timer = setInterval(draw, 250).unref();
          break;
        case 'build-reused':
          above(
            `kiln: up to date: build ${event.buildId} already built ${event.commit.slice(0, 12)} with the same kiln.yaml, builder and key; its artifacts are in ${event.outputDir}`,
          );
          break;
        case 'notice':
          above(`kiln: ${event.message}`);
          break;
        case 'warning':
          above(`kiln: warning: ${event.message}`);
          break;
        case 'step-started':
          rows.set(event.step, { status: 'running', started: now() });
          if (opts.explain && event.explanation?.length) {
            above(`kiln: step ${event.step} missed the cache: ${event.explanation.join('; ')}`);
          }
          if (opts.live) draw();
          else line(`kiln: step ${event.step} started`);
          break;
        case 'step-output': {
          const row = rows.get(event.step);
          if (row) row.last = event.line.trim();
          break;
        }
        case 'step-finished': {
          rows.set(event.step, { status: event.status, started: 0, durationMs: event.durationMs });
          const secs = (event.durationMs / 1000).toFixed(1);
          const code = event.exitCode === null ? '' : ` (exit ${event.exitCode})`;
          if (!opts.live && event.status === 'cached')
            line(`kiln: step ${event.step} cached (from build ${event.cachedFrom})`);
          else if (!opts.live) {
            line(`kiln: step ${event.step} ${event.status}${event.status === 'skipped' ? '' : ` in ${secs}s`}${code}`);
          }
          if (event.status === 'succeeded' && event.attempts !== undefined) {
            above(`kiln: warning: step ${event.step} is flaky: it passed on attempt ${event.attempts} after failing`);
          }
          if (event.status === 'failed') {
            above(`kiln: step ${event.step} failed${code}; last lines of its log:`);
            for (const l of event.logTail) above(`  | ${l}`);
          } else draw();
          break;
        }
        case 'step-retry': {
          above(`kiln: ${stepRetryText(event)}`);
          rows.set(event.step, { status: 'running', started: now() });
          break;
        }
        case 'stage':
          above(`kiln: ${event.stage}: ${event.detail}`);
          break;
        case 'build-finished':
          if (timer) clearInterval(timer);
          draw();
          drawn = 0;
          rows.clear(); // the table stays as drawn; lines after the build (publishing) must not draw it again
          line(`kiln: build ${event.buildId} ${event.status} in ${(event.durationMs / 1000).toFixed(1)}s`);
          break;
        case 'progress':
          progress(event);
          break;
        case 'cache-lookup':
        case 'cache-stored':
        case 'registry-request':
        case 'artifact-published':
        case 'signature-verified':
        case 'gc-action':
        case 'error':
          break;
        default:
          event satisfies never;
      }
    },
    /** Stops the redraw timer (on errors before build-finished). */
    stop(): void {
      if (timer) clearInterval(timer);
    },
  };
}

/** Progress of long work: db import and scan as reported; gc at most once a second, and not in its first second. */
function progressLines(line: (text: string) => void, now: () => number) {
  let gcStart: number | undefined;
  let gcLast = 0;
  return (event: Extract<KilnEvent, { kind: 'progress' }>) => {
    switch (event.task) {
      case 'db-import':
        line(`kiln: db import: ${event.done} records read…`);
        break;
      case 'scan':
        line(`kiln: scan: ${event.done}/${event.total} artifacts`);
        break;
      case 'gc': {
        const t = now();
        gcStart ??= t;
        if (t - gcStart < 1000 || t - gcLast < 1000) return;
        gcLast = t;
        line(`kiln: gc: ${event.phase} ${event.done}/${event.total}`);
        break;
      }
    }
  };
}
