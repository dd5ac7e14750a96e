// One step: compute its action key, replay it from the cache when a verified entry exists, else run it in a fresh
// directory holding only its declared inputs and the outputs of the steps it needs, and cache what it produced.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { captureOutputs, type OutputTree, restoreOutputs, treeDigest } from '../cache/index.js';
import type { CacheHit } from '../cache/step-cache.js';
import { type Digest, sha256Hex } from '../core/digest.js';
import { isKilnError, KilnError } from '../core/errors.js';
import type { RunSlots } from '../core/slots.js';
import { explainMiss, type MissReason } from '../plan/explain.js';
import type { InputFile } from '../plan/inputs.js';
import type { ActionIngredients } from '../plan/key.js';
import { stepKey } from '../plan/step-key.js';
import type { PlannedStep } from '../plan/steps.js';
import { environmentError } from '../platform/disk.js';
import type { StepOutcome } from '../sandbox/index.js';
import { notRunReport, stepFinished, treeFileBytes } from './reports.js';
import type { StepContext, StepReport, StepResult } from './types.js';

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
  if (hit) return replayed(step, ctx, { key, ingredients, hit });
  const explanation = explainMiss(await ctx.previous(step.name), ingredients);
  const why = opts.skipCache ? 'its cached outputs were corrupt' : (explanation[0]?.detail ?? 'no cache entry');
  ctx.emit({ kind: 'cache-lookup', step: step.name, key, result: 'miss', why, bytes: 0 });
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
      logPath: join(ctx.logDir, `${fileSafeName(step.name)}.log`),
      laidOut,
      ran: () => runSlot?.(),
    });
  } finally {
    layoutSlot();
    runSlot?.();
  }
}

/** A verified cache hit: the step's outputs are the entry's tree, restored wherever a later step or artifact needs. */
function replayed(
  step: PlannedStep,
  ctx: StepContext,
  found: { key: string; ingredients: ActionIngredients; hit: CacheHit },
): StepResult {
  const { key, ingredients, hit } = found;
  const producedBy = hit.entry.producedBy.buildId;
  const bytes = treeFileBytes(hit.tree);
  ctx.emit({ kind: 'cache-lookup', step: step.name, key, result: 'hit', tier: hit.from, why: producedBy, bytes });
  const at = ctx.now().toISOString();
  const report: StepReport = {
    name: step.name,
    status: 'cached',
    exitCode: 0,
    durationMs: 0,
    startedAt: at,
    finishedAt: at,
    logPath: null,
    logTail: [],
  };
  ctx.emit(stepFinished(step, report, producedBy));
  return {
    report,
    tree: hit.tree,
    key,
    ingredients,
    producedBy,
    explanation: [],
    // What the cache supplies instead of running the step.
    bytesRestored: bytes,
    timeSavedMs: hit.entry.producedBy.durationMs ?? 0,
  };
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
    const need = isKilnError(err, 'KILN_CACHE_CORRUPT') ? (err.details?.need as string | undefined) : undefined;
    if (!need) throw err;
    const why = (err as KilnError).message;
    ctx.emit({ kind: 'warning', message: `the cached outputs of step ${need} are corrupt (${why}); running it again` });
    const report = notRunReport(step.name, 'skipped', ctx.now());
    return { report, key, ingredients, explanation, bytesRestored: 0, timeSavedMs: 0, rerunNeed: need };
  }
  // A failure elsewhere may have stopped the build while this step was being laid out or waiting to run.
  if (!(await missed.laidOut()) || ctx.signal.aborted) return { ...skipped(step, ctx), explanation };
  ctx.emit({ kind: 'step-started', step: step.name, explanation: explanation.map((r) => r.detail) });
  const startedAt = ctx.now().toISOString();
  let failure: KilnError | undefined;
  const outcome = await ctx.runner
    .run({
      name: step.name,
      command: step.run,
      cwd: dir,
      env: { ...ctx.baseEnv, ...step.env },
      network: step.network,
      logFile: logPath,
      onLine: (line, stream) => ctx.emit({ kind: 'step-output', step: step.name, stream, line }),
      signal: ctx.signal,
      timeoutMs: step.timeout * 1000,
      ...(ctx.limits ? { limits: ctx.limits } : {}),
    })
    .catch((err: unknown): StepOutcome => {
      failure = asKilnError(err, 'KILN_SANDBOX', `step ${step.name} could not be run`);
      return { exitCode: null, signal: null, durationMs: 0, logTail: [] };
    });
  const finishedAt = ctx.now().toISOString();
  if (outcome.exitCode !== 0) ctx.stopOthers();
  missed.ran(); // storing the outputs is I/O: the next step can use the CPU meanwhile
  let tree: OutputTree | undefined;
  if (outcome.exitCode === 0) {
    try {
      tree = await captureOutputs(dir, step.outputs, ctx.cache.blobs);
      await ctx.cache.record(
        key,
        tree,
        { buildId: ctx.buildId, step: step.name, durationMs: outcome.durationMs },
        ctx.now(),
      );
      ctx.emit({ kind: 'cache-stored', step: step.name, key, bytes: treeFileBytes(tree) });
    } catch (err) {
      tree = undefined;
      // A full disk is the machine's failure, said as such; anything else is Kiln's.
      failure =
        environmentError(err, `the outputs of step ${step.name} into ${ctx.cache.storeDir}`) ??
        asKilnError(err, 'KILN_IO', `cannot store the outputs of step ${step.name}`);
      ctx.stopOthers(); // as for a non-zero exit, though steps queued meanwhile may have started
    }
  }
  const tail = [...outcome.logTail];
  if (failure) {
    // Kiln's own failure, not the command's: it goes in the log beside the output; the exit code stays the real one.
    const line = `kiln: ${outcome.exitCode === 0 ? 'the command exited 0, then ' : ''}Kiln failed: ${failure.message}`;
    tail.push(line);
    await fsp.appendFile(logPath, `${line}\n`).catch(() => {});
  }
  const ok = tree !== undefined;
  const report: StepReport = {
    name: step.name,
    status: ok ? 'succeeded' : 'failed',
    exitCode: outcome.exitCode,
    durationMs: outcome.durationMs,
    startedAt,
    finishedAt,
    logPath,
    logTail: tail,
    ...(outcome.limitHit && !ok ? { limitHit: outcome.limitHit } : {}),
  };
  ctx.emit(stepFinished(step, report));
  return {
    report,
    ...(tree ? { tree } : {}),
    ...(failure ? { failure } : {}),
    key,
    ingredients,
    explanation,
    bytesRestored: restored,
    timeSavedMs: 0,
  };
}

/** `err` as a KilnError: as it is when it is one, else with `code` and `what` in front of its message. */
function asKilnError(err: unknown, code: 'KILN_IO' | 'KILN_SANDBOX', what: string): KilnError {
  return isKilnError(err) ? err : new KilnError(code, `${what}: ${String(err)}`, { cause: err });
}

function skipped(step: PlannedStep, ctx: StepContext): StepResult {
  const report = notRunReport(step.name, 'skipped', ctx.now());
  ctx.emit(stepFinished(step, report));
  return { report, explanation: [], bytesRestored: 0, timeSavedMs: 0 };
}

/** A file name for a step: readable, and unique even when two names differ only in characters replaced here. */
function fileSafeName(name: string): string {
  const plain = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return plain === name ? name : `${plain}-${sha256Hex(name).slice(0, 8)}`;
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
      if (!isKilnError(err, 'KILN_CACHE_CORRUPT')) throw err;
      throw new KilnError('KILN_CACHE_CORRUPT', err.message, { cause: err, details: { need } });
    }
  }
  return bytes;
}
