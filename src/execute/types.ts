// What the executor hands around: a step's report and result, and what every step of a build shares.

import type { OutputTree } from '../cache/index.js';
import type { StepCache } from '../cache/step-cache.js';
import type { Digest } from '../core/digest.js';
import type { KilnError } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import type { RunSlots } from '../core/slots.js';
import type { MissReason } from '../plan/explain.js';
import type { ActionIngredients } from '../plan/key.js';
import type { SourceView } from '../plan/source-view.js';
import type { LimitHit, StepLimits, StepRunner } from '../sandbox/index.js';

/** The outcome of one step of a build. */
export interface StepReport {
  readonly name: string;
  readonly status: 'succeeded' | 'cached' | 'failed' | 'skipped';
  readonly exitCode: number | null;
  readonly durationMs: number;
  /** RFC 3339; for a replayed or skipped step, start and finish are the same instant. */
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly logPath: string | null;
  readonly logTail: readonly string[];
  /** Set when the step failed because it hit one of its resource limits. */
  readonly limitHit?: LimitHit;
  /** How many times its command ran: 0 for a replayed or skipped step, more than 1 when it was retried. */
  readonly attempts: number;
}

/** What every step of a build shares. */
export interface StepContext {
  /** The project's files: inputs are listed and hashed here; the tree is checked out only when a step runs. */
  readonly source: SourceView;
  readonly stepsDir: string;
  readonly logDir: string;
  readonly baseEnv: Readonly<Record<string, string>>;
  readonly runner: StepRunner;
  /** kiln.yaml `limits`: what each step may use. */
  readonly limits?: StepLimits;
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
  /** Why a step whose command exited 0 still failed (its outputs could not be captured or stored): Kiln's error. */
  readonly failure?: KilnError;
  /** Set when a needed step's cached outputs turned out corrupt: that step must run, then this one again. */
  readonly rerunNeed?: string;
}
