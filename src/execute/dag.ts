// Runs the step DAG: each step once its needs succeeded; the first failure stops the rest. Cache lookups (a few small
// reads each) go ahead many at a time; at most `parallelism` steps actually run (populate, run, capture) at once.
import { promises as fsp } from 'node:fs';
import type { OutputTree } from '../cache/index.js';
import { runSlots } from '../core/slots.js';
import type { PlannedStep } from '../plan/steps.js';
import { notRunReport, stepFinished } from './reports.js';
import { runStep } from './run-step.js';
import type { StepContext, StepReport, StepResult } from './types.js';

/** Executes `steps` (in topological order); returns one result per step that ran or was replayed, and all reports. */
export async function executeSteps(opts: {
  steps: readonly PlannedStep[];
  parallelism: number;
  context: Omit<StepContext, 'signal' | 'slots' | 'stopOthers'>;
  signal?: AbortSignal | undefined;
}): Promise<{ reports: StepReport[]; results: Map<string, StepResult> }> {
  await fsp.mkdir(opts.context.logDir, { recursive: true });
  const results = new Map<string, StepResult>();
  const running = new Map<string, Promise<void>>();
  // The first failure stops the steps still running, as Ctrl-C does.
  const failFast = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, failFast.signal]) : failFast.signal;
  const slots = { layout: runSlots(opts.parallelism), run: runSlots(opts.parallelism) };
  const ctx: StepContext = { ...opts.context, signal, slots, stopOthers: () => failFast.abort() };
  const inFlight = opts.parallelism * LOOKAHEAD;
  const trees = new Map<string, OutputTree>();
  const ready = (s: PlannedStep) => s.needs.every((n) => trees.has(n));
  const forced = new Set<string>(); // steps whose cached outputs proved corrupt: they run, never replay
  const start = (step: PlannedStep) => {
    const task = runStep(step, trees, ctx, { skipCache: forced.has(step.name) })
      .catch((err: unknown): StepResult => {
        const report = notRunReport(step.name, 'failed', ctx.now(), [String(err)]);
        ctx.emit(stepFinished(step, report));
        return { report, explanation: [], bytesRestored: 0, timeSavedMs: 0 };
      })
      .then((result) => {
        running.delete(step.name);
        const need = result.rerunNeed;
        if (need !== undefined && !forced.has(need) && results.get(need)?.report.status === 'cached') {
          // Run the producer for real; this step is scheduled again once its outputs exist.
          forced.add(need);
          results.delete(need);
          trees.delete(need);
          return;
        }
        results.set(step.name, need === undefined ? result : failedAfterRerun(result, need));
        if (result.tree) trees.set(step.name, result.tree);
        else failFast.abort();
      });
    running.set(step.name, task);
  };
  for (;;) {
    if (!signal.aborted) {
      for (const step of opts.steps) {
        if (running.size >= inFlight) break;
        if (!results.has(step.name) && !running.has(step.name) && ready(step)) start(step);
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  const reports = opts.steps.map((step) => {
    const done = results.get(step.name);
    if (done) return done.report;
    const skipped = notRunReport(step.name, 'skipped', ctx.now());
    ctx.emit(stepFinished(step, skipped));
    return skipped;
  });
  return { reports, results };
}

function failedAfterRerun(result: StepResult, need: string): StepResult {
  const tail = [`kiln: the outputs of step ${need} were corrupt even after running it again`];
  return { ...result, report: { ...result.report, status: 'failed', logTail: tail } };
}

/** Steps in flight per run slot: enough to look up a whole layer of cached steps at once. */
const LOOKAHEAD = 16;
