// Runs steps directly on the host: no isolation (provenance says so). The step's whole process group is
// stopped when its shell exits, on timeout and on abort, so nothing a step started outlives it.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { StepInvocation, StepOutcome, StepRunner } from './runner.js';

const TAIL_LINES = 20;
const KILL_GRACE_MS = 2000;

/** A StepRunner that spawns `sh -c` on the host with the given environment only. */
export function hostRunner(opts: { now?: () => number } = {}): StepRunner {
  const now = opts.now ?? Date.now;
  return { kind: 'host', hermetic: false, run: (step) => runOnHost(step, now) };
}

function runOnHost(step: StepInvocation, now: () => number): Promise<StepOutcome> {
  const started = now();
  const tail = new LineTail(step.onLine);
  return new Promise((resolve, reject) => {
    const log = createWriteStream(step.logFile, { flags: 'w', mode: 0o644 });
    let logError: Error | undefined;
    log.on('error', (err) => {
      logError ??= err; // e.g. ENOSPC: the step is stopped and the failure reported, never a crash
      group.stop();
    });
    const child = spawn('/bin/sh', ['-c', step.command], {
      cwd: step.cwd,
      env: { ...step.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so the whole tree can be signalled
    });
    const group = processGroup(child.pid);
    let timedOut = false;
    const timer = step.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          group.stop();
        }, step.timeoutMs)
      : undefined;
    const onAbort = () => group.stop();
    step.signal?.addEventListener('abort', onAbort, { once: true });
    for (const [name, stream] of [
      ['stdout', child.stdout],
      ['stderr', child.stderr],
    ] as const) {
      const decoder = new StringDecoder('utf8');
      stream.on('data', (chunk: Buffer) => {
        if (!logError) log.write(chunk);
        tail.push(name, decoder.write(chunk));
      });
      stream.on('end', () => tail.end(name, decoder.end()));
    }
    child.on('error', (err) => {
      clearTimeout(timer);
      log.end();
      reject(err);
    });
    child.on('exit', () => group.stop()); // the shell is done: whatever it left running goes too
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      step.signal?.removeEventListener('abort', onAbort);
      group.kill();
      const outcome = (): StepOutcome => ({
        exitCode: timedOut || logError ? null : code,
        signal: signal ?? null,
        durationMs: now() - started,
        logTail: [
          ...tail.lines(),
          ...(timedOut
            ? [`kiln: step timed out after ${Math.round((step.timeoutMs ?? 0) / 1000)}s and was stopped`]
            : []),
          ...(logError ? [`kiln: cannot write the step log ${step.logFile}: ${logError.message}`] : []),
        ],
      });
      if (logError) resolve(outcome());
      else log.end(() => resolve(outcome()));
    });
  });
}

/** SIGTERM to the group, then SIGKILL after a grace period (the timer keeps Kiln alive until then). */
function processGroup(pid: number | undefined) {
  let timer: NodeJS.Timeout | undefined;
  const send = (sig: NodeJS.Signals) => {
    if (pid === undefined) return;
    try {
      process.kill(-pid, sig);
    } catch {
      // The group is already gone.
    }
  };
  return {
    stop(): void {
      if (timer) return;
      send('SIGTERM');
      timer = setTimeout(() => send('SIGKILL'), KILL_GRACE_MS);
    },
    kill(): void {
      clearTimeout(timer);
      send('SIGKILL');
    },
  };
}

/** Splits each stream into lines on its own, and keeps the last lines of both for error messages. */
class LineTail {
  private readonly partial = new Map<string, string>();
  private readonly tail: string[] = [];

  constructor(private readonly onLine?: (line: string) => void) {}

  push(stream: string, text: string): void {
    const lines = ((this.partial.get(stream) ?? '') + text).split('\n');
    this.partial.set(stream, lines.pop() ?? '');
    this.emit(lines);
  }

  /** Flushes a stream's unterminated last line. */
  end(stream: string, rest: string): void {
    const last = (this.partial.get(stream) ?? '') + rest;
    this.partial.set(stream, '');
    if (last) this.emit(last.split('\n'));
  }

  private emit(lines: string[]): void {
    for (const line of lines) {
      this.tail.push(line);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
      this.onLine?.(line);
    }
  }

  lines(): string[] {
    return [...this.tail];
  }
}
