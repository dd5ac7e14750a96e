// Runs one step through a real StepRunner and looks for its processes on the host, for the sandbox tests.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StepInvocation, StepOutcome, StepRunner } from '../../src/sandbox/index.js';
import { tempDir } from './tmp.js';

/** Runs `command` in `cwd` (a fresh temp dir by default) and returns the outcome with the whole log. */
export async function runStep(
  runner: StepRunner,
  command: string,
  opts: Partial<Omit<StepInvocation, 'command'>> = {},
): Promise<StepOutcome & { log: string; cwd: string }> {
  const cwd = opts.cwd ?? tempDir('kiln-sandbox-cwd-');
  const logFile = opts.logFile ?? join(tempDir('kiln-sandbox-log-'), 'step.log');
  const outcome = await runner.run({ name: 'probe', env: {}, network: false, ...opts, command, cwd, logFile });
  return { ...outcome, log: readFileSync(logFile, 'utf8'), cwd };
}

/** Host pids whose command line is exactly `argv` (e.g. ['sleep', '300.5123']). */
export function pidsRunning(argv: readonly string[]): number[] {
  const wanted = `${argv.join('\0')}\0`;
  return hostPids().filter((pid) => cmdline(pid) === wanted);
}

/** Host pids whose command line contains `marker` anywhere (bwrap, its init, the shell, the step's children). */
export function pidsMentioning(marker: string): number[] {
  return hostPids().filter((pid) => cmdline(pid)?.includes(marker));
}

/** A number unlikely to appear in any other command line, usable as a sleep duration. */
export function uniqueSeconds(base: number): string {
  return `${base}.${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`;
}

function hostPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

function cmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return undefined;
  }
}
