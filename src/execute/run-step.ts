// One step: compute its action key, replay it from the cache when a verified entry exists, else run it in a fresh
// directory holding only its declared inputs and the outputs of the steps it needs, and cache what it produced.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { captureOutputs, type OutputTree, restoreOutputs, treeDigest } from '../cache/index.js';
import type { StepCache } from '../cache/step-cache.js';
import { type Digest, sha256Hex } from '../core/digest.js';
import { isKilnError, KilnError } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import type { RunSlots } from '../core/slots.js';
import { explainMiss, type MissReason } from '../plan/explain.js';
import { expandInputsFrom, type InputFile, type InputIndex } from '../plan/inputs.js';
import { type ActionIngredients, actionIngredients, actionKey } from '../plan/key.js';
import type { SourceView } from '../plan/source-view.js';
import type { StepRunner } from '../sandbox/index.js';
import type { PlannedStep, StepReport } from './dag.js';

/** What every step of a build shares. */
export interface StepContext {
  /** The project's files: inputs are listed and hashed here; the tree is checked out only when a step runs. */
  readonly source: SourceView;
  readonly stepsDir: string;
  readonly logDir: string;
  readonly baseEnv: Readonly<Record<string, string>>;
  readonly runner: StepRunner;
  readonly cache: StepCache;
  readonly builder: Digest;
  readonly buildId: string;
  /** Key ingredients of a step's last recorded build, to explain a miss (read from the store on the first one). */
  readonly previous: PreviousIngredients;
  readonly emit: EventSink;
  readonly signal: AbortSignal;
  /** Bound how many steps are laid out and how many run at once (lookups and replays take no slot). */
  readonly slots: { readonly layout: RunSlots; readonly run: RunSlots };
  /** Stops the build's other steps: called by a failing step before it frees its slot, so nothing new starts. */
  readonly stopOthers: () => void;
  readonly now: () => Date;
  /** Steps whose outputs will surely be restored (artifact sources): their hits are verified blob by blob. */
  readonly verifyOutputsOf: ReadonlySet<string>;
}

/** Looks up the key ingredients a step had in its last recorded build. */
export type PreviousIngredients = (step: string) => Promise<ActionIngredients | undefined>;

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

/** A step's outcome together with what downstream steps and the record need. */
export interface StepResult {
  readonly report: StepReport;
  readonly tree?: OutputTree;
  /** Absent only when the step failed before its key was known. */
  readonly key?: string;
  readonly ingredients?: ActionIngredients;
  readonly producedBy?: string;
  readonly explanation: readonly MissReason[];
  readonly bytesRestored: number;
  readonly timeSavedMs: number;
  /** Set when a needed step's cached outputs turned out corrupt: that step must run, then this one again. */
  readonly rerunNeed?: string;
}

/** Runs (or replays) `step`, given the output trees of the steps it needs. */
export async function runStep(
  step: PlannedStep,
  upstream: ReadonlyMap<string, OutputTree>,
  ctx: StepContext,
  opts: { skipCache?: boolean } = {},
): Promise<StepResult> {
  const upstreamDigests: Record<string, Digest> = {};
  for (const need of step.needs) {
    const tree = upstream.get(need);
    if (tree) upstreamDigests[need] = treeDigest(tree);
  }
  const { inputs, ingredients, key } = await stepKey(step, upstreamDigests, ctx.source.inputs, ctx.builder);
  const hit = opts.skipCache
    ? undefined
    : await ctx.cache.lookup(key, { verifyContent: ctx.verifyOutputsOf.has(step.name) });
  const logPath = join(ctx.logDir, `${fileSafeName(step.name)}.log`);
  if (hit) {
    const report: StepReport = {
      name: step.name,
      status: 'cached',
      exitCode: 0,
      durationMs: 0,
      logPath: null,
      logTail: [],
    };
    ctx.emit({ kind: 'step-finished', step: step.name, ...report, cachedFrom: hit.entry.producedBy.buildId });
    return {
      report,
      tree: hit.tree,
      key,
      ingredients,
      producedBy: hit.entry.producedBy.buildId,
      explanation: [],
      // What the cache supplies instead of running the step (restored wherever a later step or artifact needs it).
      bytesRestored: hit.tree.entries.reduce((n, e) => n + (e.kind === 'file' ? e.size : 0), 0),
      timeSavedMs: hit.entry.producedBy.durationMs ?? 0,
    };
  }
  const explanation = explainMiss(await ctx.previous(step.name), ingredients);
  // Laying out the directory and running take separate slots, so the next step's layout overlaps this one's run.
  const layoutSlot = await take(ctx.slots.layout, ctx.signal);
  if (!layoutSlot) return skipped(step, ctx); // stopped (a failure elsewhere, or Ctrl-C) before it started
  let runSlot: (() => void) | undefined;
  const laidOut = async () => {
    runSlot = await take(ctx.slots.run, ctx.signal);
    layoutSlot();
    return runSlot !== undefined;
  };
  try {
    return await runMissed(step, upstream, ctx, {
      inputs,
      ingredients,
      key,
      explanation,
      logPath,
      laidOut,
      ran: () => runSlot?.(),
    });
  } finally {
    layoutSlot();
    runSlot?.();
  }
}

/** A slot from `slots`, as a release function that may be called more than once; undefined if stopped first. */
async function take(slots: RunSlots, signal: AbortSignal): Promise<(() => void) | undefined> {
  let release: () => void;
  try {
    release = await slots.acquire(signal);
  } catch {
    return undefined;
  }
  let held = true;
  return () => {
    if (held) release();
    held = false;
  };
}

/** Runs a step that missed the cache, in its own fresh directory, and caches what it produced. */
async function runMissed(
  step: PlannedStep,
  upstream: ReadonlyMap<string, OutputTree>,
  ctx: StepContext,
  missed: {
    inputs: readonly InputFile[];
    ingredients: ActionIngredients;
    key: string;
    explanation: readonly MissReason[];
    logPath: string;
    /** Called once the directory is ready: waits for a run slot; false when the build stopped meanwhile. */
    laidOut: () => Promise<boolean>;
    /** Gives the run slot back: called once the step's processes are gone, before its outputs are stored. */
    ran: () => void;
  },
): Promise<StepResult> {
  const { inputs, ingredients, key, explanation, logPath } = missed;
  const dir = join(ctx.stepsDir, fileSafeName(step.name));
  let restored: number;
  try {
    restored = await populate(dir, inputs, step, upstream, ctx);
  } catch (err) {
    const need = isKilnError(err, 'E_CACHE_CORRUPT') ? (err.details?.need as string | undefined) : undefined;
    if (!need) throw err;
    const why = (err as KilnError).message;
    ctx.emit({ kind: 'warning', message: `the cached outputs of step ${need} are corrupt (${why}); running it again` });
    const report = notRunReport(step.name, 'skipped');
    return { report, key, ingredients, explanation, bytesRestored: 0, timeSavedMs: 0, rerunNeed: need };
  }
  // A failure elsewhere may have stopped the build while this step was being laid out or waiting to run.
  if (!(await missed.laidOut()) || ctx.signal.aborted) return { ...skipped(step, ctx), explanation };
  ctx.emit({ kind: 'step-started', step: step.name, explanation: explanation.map((r) => r.detail) });
  const outcome = await ctx.runner
    .run({
      name: step.name,
      command: step.run,
      cwd: dir,
      env: { ...ctx.baseEnv, ...step.env },
      network: step.network,
      logFile: logPath,
      onLine: (line) => ctx.emit({ kind: 'step-output', step: step.name, line }),
      signal: ctx.signal,
      timeoutMs: step.timeout * 1000,
    })
    .catch((err: unknown) => ({ exitCode: null, signal: null, durationMs: 0, logTail: [String(err)] }));
  if (outcome.exitCode !== 0) ctx.stopOthers();
  missed.ran(); // storing the outputs is I/O: the next step can use the CPU meanwhile
  let tree: OutputTree | undefined;
  const tail = [...outcome.logTail];
  if (outcome.exitCode === 0) {
    try {
      tree = await captureOutputs(dir, step.outputs, ctx.cache.blobs);
      await ctx.cache.record(
        key,
        tree,
        { buildId: ctx.buildId, step: step.name, durationMs: outcome.durationMs },
        ctx.now(),
      );
    } catch (err) {
      tree = undefined;
      tail.push(`kiln: ${isKilnError(err) ? err.message : String(err)}`);
      ctx.stopOthers(); // as for a non-zero exit, though steps queued meanwhile may have started
    }
  }
  const ok = tree !== undefined;
  const report: StepReport = {
    name: step.name,
    status: ok ? 'succeeded' : 'failed',
    exitCode: ok ? 0 : outcome.exitCode === 0 ? 1 : outcome.exitCode,
    durationMs: outcome.durationMs,
    logPath,
    logTail: tail,
  };
  ctx.emit({ kind: 'step-finished', step: step.name, ...report });
  return { report, ...(tree ? { tree } : {}), key, ingredients, explanation, bytesRestored: restored, timeSavedMs: 0 };
}

function skipped(step: PlannedStep, ctx: StepContext): StepResult {
  const report = notRunReport(step.name, 'skipped');
  ctx.emit({ kind: 'step-finished', step: step.name, ...report });
  return { report, explanation: [], bytesRestored: 0, timeSavedMs: 0 };
}

/** A file name for a step: readable, and unique even when two names differ only in characters replaced here. */
function fileSafeName(name: string): string {
  const plain = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return plain === name ? name : `${plain}-${sha256Hex(name).slice(0, 8)}`;
}

/** A step's action key from its declared inputs (as in the clean tree), its needs' output digests and the builder. */
export async function stepKey(
  step: PlannedStep,
  upstream: Readonly<Record<string, Digest>>,
  index: InputIndex,
  builder: Digest,
): Promise<{ inputs: InputFile[]; ingredients: ActionIngredients; key: string }> {
  const inputs = await expandInputsFrom(index, step.inputs);
  const ingredients = actionIngredients({
    command: step.run,
    env: step.env,
    network: step.network,
    outputs: step.outputs,
    inputs,
    upstream,
    builder,
  });
  return { inputs, ingredients, key: actionKey(ingredients) };
}

/** Lays out the step's directory: declared inputs copied from the clean tree, then the outputs it needs. */
async function populate(
  dir: string,
  inputs: readonly InputFile[],
  step: PlannedStep,
  upstream: ReadonlyMap<string, OutputTree>,
  ctx: StepContext,
): Promise<number> {
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.mkdir(dir, { recursive: true });
  await ctx.source.copyFiles(
    inputs.map((i) => i.path),
    dir,
  );
  let bytes = 0;
  for (const need of step.needs) {
    const tree = upstream.get(need);
    if (!tree) continue;
    try {
      bytes += (await restoreOutputs(tree, dir, ctx.cache.blobs)).bytes;
    } catch (err) {
      if (!isKilnError(err, 'E_CACHE_CORRUPT')) throw err;
      throw new KilnError('E_CACHE_CORRUPT', err.message, { cause: err, details: { need } });
    }
  }
  return bytes;
}

/** The report of a step that did not run (skipped, or failed before starting). */
export function notRunReport(name: string, status: 'failed' | 'skipped', logTail: readonly string[] = []): StepReport {
  return { name, status, exitCode: null, durationMs: 0, logPath: null, logTail };
}
