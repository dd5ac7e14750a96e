// Runs the step DAG: each step once its needs succeeded, up to `parallelism` at a time; the first failure stops new starts.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { EventSink } from '../core/events.js';
import type { StepRunner } from '../sandbox/index.js';

/** A step as the executor needs it (already planned and validated). */
export interface PlannedStep {
  readonly name: string;
  readonly run: string;
  readonly needs: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly network: boolean;
  /** Seconds before the step is stopped. */
  readonly timeout: number;
}

/** The outcome of one step of a build. */
export interface StepReport {
  readonly name: string;
  readonly status: 'succeeded' | 'failed' | 'skipped';
  readonly exitCode: number | null;
  readonly durationMs: number;
  readonly logPath: string | null;
  readonly logTail: readonly string[];
}

/** Executes `steps` (in topological order) in `cwd`; returns one report per step, in that order. */
export async function executeSteps(opts: {
  steps: readonly PlannedStep[];
  cwd: string;
  logDir: string;
  baseEnv: Readonly<Record<string, string>>;
  runner: StepRunner;
  parallelism: number;
  emit: EventSink;
  signal?: AbortSignal | undefined;
}): Promise<StepReport[]> {
  await fsp.mkdir(opts.logDir, { recursive: true });
  const reports = new Map<string, StepReport>();
  // The first failure stops the steps still running, as Ctrl-C does.
  const failFast = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, failFast.signal]) : failFast.signal;
  const running = new Map<string, Promise<void>>();
  let failed = false;
  const ready = (s: PlannedStep) => s.needs.every((n) => reports.get(n)?.status === 'succeeded');
  const start = (step: PlannedStep) => {
    opts.emit({ kind: 'step-started', step: step.name });
    const logPath = join(opts.logDir, `${step.name}.log`);
    const task = opts.runner
      .run({
        name: step.name,
        command: step.run,
        cwd: opts.cwd,
        env: { ...opts.baseEnv, ...step.env },
        network: step.network,
        logFile: logPath,
        onLine: (line) => opts.emit({ kind: 'step-output', step: step.name, line }),
        signal,
        timeoutMs: step.timeout * 1000,
      })
      .then(
        (outcome) => ({ ...outcome, error: undefined as string | undefined }),
        (err: unknown) => ({ exitCode: null, signal: null, durationMs: 0, logTail: [String(err)], error: String(err) }),
      )
      .then((outcome) => {
        const ok = outcome.exitCode === 0 && outcome.error === undefined;
        if (!ok) {
          failed = true;
          failFast.abort();
        }
        const report: StepReport = {
          name: step.name,
          status: ok ? 'succeeded' : 'failed',
          exitCode: outcome.exitCode,
          durationMs: outcome.durationMs,
          logPath,
          logTail: outcome.logTail,
        };
        reports.set(step.name, report);
        running.delete(step.name);
        opts.emit({ kind: 'step-finished', step: step.name, ...report });
      });
    running.set(step.name, task);
  };
  for (;;) {
    if (!failed && !opts.signal?.aborted) {
      for (const step of opts.steps) {
        if (running.size >= opts.parallelism) break;
        if (!reports.has(step.name) && !running.has(step.name) && ready(step)) start(step);
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  return opts.steps.map((step) => {
    const done = reports.get(step.name);
    if (done) return done;
    const skipped: StepReport = {
      name: step.name,
      status: 'skipped',
      exitCode: null,
      durationMs: 0,
      logPath: null,
      logTail: [],
    };
    opts.emit({ kind: 'step-finished', step: step.name, ...skipped });
    return skipped;
  });
}
