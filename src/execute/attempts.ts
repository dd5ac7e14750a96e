// A step's command run up to 1 + `retries` times (kiln.yaml `retries`): only a non-zero exit is retried, never a
// timeout, a resource limit, Kiln's own failure or an interrupt; each attempt runs in a freshly laid out directory, and
// all of them write the one log, a line between them saying which attempt ended how.
import { promises as fsp } from 'node:fs';
import { isKilnError, KilnError } from '../core/errors.js';
import type { PlannedStep } from '../plan/steps.js';
import type { StepOutcome } from '../sandbox/index.js';
import type { StepContext } from './types.js';

/** How the attempts at a step's command ended. */
export interface Attempts {
  /** The last attempt's outcome (its log tail ends with what the attempts came to, when there were several). */
  readonly outcome: StepOutcome;
  /** Why Kiln could not run an attempt (the runner failed, or the directory could not be laid out again). */
  readonly failure?: KilnError;
  /** How many times the command ran: 1 unless it was retried. */
  readonly attempts: number;
  /** Milliseconds of all attempts together. */
  readonly durationMs: number;
}

/** Where a step runs: its directory, its log, and how to lay the directory out afresh for another attempt. */
export interface AttemptPlace {
  readonly dir: string;
  readonly logPath: string;
  readonly relayout: () => Promise<unknown>;
}

/** Runs `step`'s command until it exits 0, fails in a way a retry cannot change, or has used its retries. */
export async function runAttempts(step: PlannedStep, ctx: StepContext, place: AttemptPlace): Promise<Attempts> {
  const max = step.retries + 1;
  let durationMs = 0;
  for (let attempt = 1; ; attempt++) {
    const { outcome, failure } = await runOnce(step, ctx, place, attempt > 1);
    durationMs += outcome.durationMs;
    const again = !failure && attempt < max && retryable(outcome) && !ctx.signal.aborted;
    if (!again) {
      const last = attempt > 1 ? await note(place.logPath, lastAttempt(outcome, attempt, max)) : undefined;
      const ended = last && outcome.exitCode !== 0 ? { ...outcome, logTail: [...outcome.logTail, last] } : outcome;
      return { outcome: ended, attempts: attempt, durationMs, ...(failure ? { failure } : {}) };
    }
    const exitCode = outcome.exitCode as number;
    await note(
      place.logPath,
      `kiln: attempt ${attempt} of ${max} exited ${exitCode}; attempt ${attempt + 1} of ${max} runs in a fresh directory`,
    );
    ctx.emit({
      kind: 'step-retry',
      step: step.name,
      attempt,
      maxAttempts: max,
      exitCode,
      durationMs: outcome.durationMs,
      logTail: outcome.logTail,
    });
    try {
      await place.relayout();
    } catch (err) {
      const why = `the directory of step ${step.name} could not be laid out again for attempt ${attempt + 1}`;
      return { outcome, attempts: attempt, durationMs, failure: asKilnError(err, why) };
    }
  }
}

/** Only a command that ran to a non-zero exit of its own is retried: a kill (limit, timeout, interrupt) is not. */
export function retryable(outcome: StepOutcome): boolean {
  return outcome.exitCode !== null && outcome.exitCode !== 0 && outcome.limitHit === undefined;
}

async function runOnce(
  step: PlannedStep,
  ctx: StepContext,
  place: AttemptPlace,
  appendLog: boolean,
): Promise<{ outcome: StepOutcome; failure?: KilnError }> {
  try {
    const outcome = await ctx.runner.run({
      name: step.name,
      command: step.run,
      cwd: place.dir,
      env: { ...ctx.baseEnv, ...step.env },
      network: step.network,
      logFile: place.logPath,
      appendLog,
      onLine: (line, stream) => ctx.emit({ kind: 'step-output', step: step.name, stream, line }),
      signal: ctx.signal,
      timeoutMs: step.timeout * 1000,
      ...(ctx.limits ? { limits: ctx.limits } : {}),
    });
    return { outcome };
  } catch (err) {
    const failure = asKilnError(err, `step ${step.name} could not be run`, 'KILN_SANDBOX');
    return { outcome: { exitCode: null, signal: null, durationMs: 0, logTail: [] }, failure };
  }
}

/** The line closing the log of a step that ran more than once: how its last attempt ended. */
function lastAttempt(outcome: StepOutcome, attempt: number, max: number): string {
  const which = `attempt ${attempt} of ${max}`;
  if (outcome.exitCode === 0) return `kiln: ${which} exited 0: the step passed after failing, so it is flaky`;
  if (outcome.limitHit) return `kiln: ${which} hit its ${outcome.limitHit.text}: not retried`;
  if (outcome.exitCode === null) return `kiln: ${which} was stopped or could not run: not retried`;
  if (attempt === max) return `kiln: ${which} exited ${outcome.exitCode}: the step failed every attempt`;
  return `kiln: ${which} exited ${outcome.exitCode} while the build was stopping: not retried`;
}

/** Appends `line` to the log; returns it. A log that cannot be written loses the line, not the build. */
async function note(logPath: string, line: string): Promise<string> {
  await fsp.appendFile(logPath, `${line}\n`).catch(() => {});
  return line;
}

function asKilnError(err: unknown, what: string, code: 'KILN_IO' | 'KILN_SANDBOX' = 'KILN_IO'): KilnError {
  return isKilnError(err) ? err : new KilnError(code, `${what}: ${String(err)}`, { cause: err });
}
