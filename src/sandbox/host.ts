// Runs steps directly on the host: no isolation (provenance says so); the sandbox runner replaces it by default later.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import type { StepInvocation, StepOutcome, StepRunner } from './runner.js';

const TAIL_LINES = 20;

/** A StepRunner that spawns `sh -c` on the host with the given environment only. */
export function hostRunner(opts: { now?: () => number } = {}): StepRunner {
  const now = opts.now ?? Date.now;
  return {
    kind: 'host',
    hermetic: false,
    run: (step) => runOnHost(step, now),
  };
}

/** Stops a step's whole process group: SIGTERM, then SIGKILL after a grace period. */
function killGroup(pid: number | undefined, signal: AbortSignal | undefined): void {
  if (pid === undefined || !signal?.aborted) return;
  const send = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // The group is already gone.
    }
  };
  send('SIGTERM');
  setTimeout(() => send('SIGKILL'), 3000).unref();
}

function runOnHost(step: StepInvocation, now: () => number): Promise<StepOutcome> {
  const started = now();
  const log = createWriteStream(step.logFile, { flags: 'w', mode: 0o644 });
  const tail: string[] = [];
  let partial = '';
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    const text = partial + chunk.toString('utf8');
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) pushLine(line);
  };
  const pushLine = (line: string) => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    step.onLine?.(line);
  };
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', step.command], {
      cwd: step.cwd,
      env: { ...step.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const stop = () => killGroup(child.pid, step.signal);
    step.signal?.addEventListener('abort', stop, { once: true });
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => {
      log.end();
      reject(err);
    });
    child.on('close', (code, signal) => {
      step.signal?.removeEventListener('abort', stop);
      if (partial) pushLine(partial);
      log.end(() =>
        resolve({ exitCode: code, signal: signal ?? null, durationMs: now() - started, logTail: [...tail] }),
      );
    });
  });
}
