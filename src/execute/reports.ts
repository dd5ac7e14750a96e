// Step reports and the events that announce them: one shape for a step that ran, was replayed or never started.
import type { OutputTree } from '../cache/index.js';
import type { KilnEvent } from '../core/events.js';
import type { ActionIngredients } from '../plan/key.js';
import type { PlannedStep } from '../plan/steps.js';
import type { PreviousIngredients, StepReport } from './types.js';

/** The report of a step that did not run (skipped, or failed before starting), at `now`. */
export function notRunReport(
  name: string,
  status: 'failed' | 'skipped',
  now: Date,
  logTail: readonly string[] = [],
): StepReport {
  const at = now.toISOString();
  return {
    name,
    status,
    exitCode: null,
    durationMs: 0,
    startedAt: at,
    finishedAt: at,
    logPath: null,
    logTail,
    attempts: 0,
  };
}

/** A step that passed only after failing (kiln.yaml `retries`): recorded as flaky, never as a clean pass. */
export function isFlaky(report: Pick<StepReport, 'status' | 'attempts'>): boolean {
  return report.status === 'succeeded' && report.attempts > 1;
}

/** The `step-finished` event of `report`. */
export function stepFinished(
  step: Pick<PlannedStep, 'name' | 'network'>,
  report: StepReport,
  cachedFrom?: string,
): KilnEvent {
  const { status, exitCode, durationMs, startedAt, finishedAt, logTail } = report;
  return {
    kind: 'step-finished',
    step: step.name,
    status,
    exitCode,
    durationMs,
    startedAt,
    finishedAt,
    network: step.network,
    logTail,
    ...(cachedFrom === undefined ? {} : { cachedFrom }),
    ...(report.attempts > 1 ? { attempts: report.attempts } : {}),
  };
}

/** Bytes of file content in an output tree. */
export function treeFileBytes(tree: OutputTree): number {
  return tree.entries.reduce((n, e) => n + (e.kind === 'file' ? e.size : 0), 0);
}

/** A PreviousIngredients that calls `load` on its first use only: a build whose steps all hit never needs it. */
export function lazyPreviousIngredients(
  load: () => Promise<ReadonlyMap<string, ActionIngredients>>,
): PreviousIngredients {
  let all: Promise<ReadonlyMap<string, ActionIngredients>> | undefined;
  return async (step) => {
    all ??= load().catch(() => new Map()); // only explanations depend on it; the record reports a broken store
    return (await all).get(step);
  };
}
