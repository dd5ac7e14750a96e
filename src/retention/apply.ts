// Carries out a retention plan in the order that stays safe after a crash at any point: index.json first (a
// manifest is never listed while its blobs are gone), then the store, the builds' logs, and the blobs last (a crash
// before then only leaves unreferenced blobs, which the next gc removes).
import { promises as fsp } from 'node:fs';
import type { EventSink } from '../core/events.js';
import {
  type BlobSweep,
  type Descriptor,
  type LockOptions,
  removeManifests,
  sweepLayoutBlobs,
} from '../registry/index.js';
import { deleteBuilds, type Store } from '../store/index.js';
import type { RetentionPlan } from './types.js';

/** What applying touches, passed in: the store, where build logs live, the clock for the blob grace period. */
export interface RetentionEffects {
  readonly store: Store;
  /** `$KILN_HOME/builds/<id>`: logs and a blocked build's evidence, Kiln's own files. */
  readonly buildDir: (id: string) => string;
  readonly now: Date;
  readonly graceMs?: number;
  readonly lock?: Partial<LockOptions>;
  /** Receives `progress` (task gc) and a `gc-action` per thing removed. */
  readonly emit?: EventSink;
}

/** The stages of applying, in order. */
export type RetentionPhase = 'index' | 'store' | 'logs' | 'blobs';

/** What applying did. */
export interface RetentionResult {
  readonly manifestsRemoved: number;
  readonly buildsDeleted: number;
  readonly buildDirsRemoved: number;
  readonly blobs: BlobSweep;
}

/** Applies the whole plan: index, store, build directories, blobs. */
export async function applyRetention(plan: RetentionPlan, effects: RetentionEffects): Promise<RetentionResult> {
  const emit = effects.emit ?? (() => {});
  const progress = (phase: RetentionPhase, done: number, total: number) =>
    emit({ kind: 'progress', task: 'gc', phase, done, total });
  progress('index', 0, plan.layout.remove.length);
  const removed = await removePlannedManifests(plan, effects);
  for (const d of removed)
    emit({ kind: 'gc-action', action: 'remove-manifest', target: d.digest, detail: plan.layout.dir });
  progress('store', 0, plan.store.remove.length);
  const deleted = await deleteBuilds(effects.store, plan.store.remove);
  for (const id of deleted) emit({ kind: 'gc-action', action: 'delete-build', target: id });
  progress('logs', 0, plan.store.remove.length);
  const dirs = await removeBuildDirs(plan, effects.buildDir);
  for (const dir of dirs) emit({ kind: 'gc-action', action: 'remove-build-dir', target: dir });
  const blobs = await sweepPlannedLayout(plan, { ...effects, progress });
  if (blobs.removed.length > 0) {
    const target = `${blobs.removed.length} blob(s), ${blobs.bytesRemoved} bytes`;
    emit({ kind: 'gc-action', action: 'delete-blobs', target, detail: plan.layout.dir });
  }
  return { manifestsRemoved: removed.length, buildsDeleted: deleted.length, buildDirsRemoved: dirs.length, blobs };
}

/** Step 1: takes the plan's manifests out of index.json (under the layout lock, written atomically). */
export function removePlannedManifests(
  plan: RetentionPlan,
  effects: Pick<RetentionEffects, 'lock'> = {},
): Promise<readonly Descriptor[]> {
  return removeManifests(plan.layout.dir, plan.layout.remove, effects.lock ? { lock: effects.lock } : {});
}

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Step 3: removes the going builds' directories under the Kiln home (never the delivered files); returns those removed. */
export async function removeBuildDirs(plan: RetentionPlan, buildDir: (id: string) => string): Promise<string[]> {
  const removed: string[] = [];
  for (const id of plan.store.remove) {
    if (!SAFE_ID.test(id)) continue; // ids are Kiln's own; never let one reach outside the builds directory
    const dir = buildDir(id);
    const existed = await fsp.lstat(dir).then(
      () => true,
      () => false,
    );
    await fsp.rm(dir, { recursive: true, force: true });
    if (existed) removed.push(dir);
  }
  return removed;
}

/** Step 4: deletes the layout's blobs nothing listed in index.json needs any more (older than the grace period). */
export function sweepPlannedLayout(
  plan: RetentionPlan,
  effects: Pick<RetentionEffects, 'now' | 'graceMs' | 'lock'> & {
    progress?: (phase: RetentionPhase, done: number, total: number) => void;
  },
): Promise<BlobSweep> {
  return sweepLayoutBlobs(plan.layout.dir, {
    now: effects.now,
    ...(effects.graceMs === undefined ? {} : { graceMs: effects.graceMs }),
    ...(effects.lock === undefined ? {} : { lock: effects.lock }),
    onProgress: (done, total) => effects.progress?.('blobs', done, total),
  });
}
