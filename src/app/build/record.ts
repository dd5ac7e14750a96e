// The store rows of one build attempt: build, steps, cache figures and step actions (to explain later misses).

import type { EvidenceKind } from '../../attest/evidence.js';
import { EVIDENCE } from '../../attest/evidence.js';
import { type BuildWorker, CONTROL_PLANE_BUILDER_ID, LOCAL_BUILDER_ID } from '../../attest/provenance.js';
import { addCacheHit, addCacheMiss, type BuildCacheFigures, NO_CACHE_FIGURES, treeDigest } from '../../cache/index.js';
import { isFlaky, type StepReport, type StepResult } from '../../execute/index.js';
import { type ActionIngredients, ingredientsJson } from '../../plan/key.js';
import type { PublishedArtifact } from '../../registry/target.js';
import type { SourceRef } from '../../source/index.js';
import type { BuildRecord, Store } from '../../store/index.js';
import { lastStepActions } from '../../store/index.js';
import type { DeliveredArtifact } from './deliver.js';
import type { QueuedFor } from './types.js';

/** Cache figures of a build from its step results. */
export function cacheFigures(results: ReadonlyMap<string, StepResult>): BuildCacheFigures {
  let figures = NO_CACHE_FIGURES;
  for (const r of results.values()) {
    if (r.report.status === 'cached') figures = addCacheHit(figures, r);
    else if (r.key !== undefined) figures = addCacheMiss(figures);
  }
  return figures;
}

/** The builder a build's provenance and record name: the control plane's for a worker's build, else the local CLI's. */
export function builderIdOf(world: { readonly worker?: BuildWorker | undefined }): string {
  return world.worker ? CONTROL_PLANE_BUILDER_ID : LOCAL_BUILDER_ID;
}

/** Everything recorded about an attempt, succeeded or failed. */
export function buildRecord(input: {
  buildId: string;
  project: string;
  source: SourceRef;
  runner: string;
  startedAt: Date;
  finishedAt: Date;
  outcome: Pick<BuildRecord['build'], 'status' | 'exit_code' | 'error'>;
  /** Set for a succeeded build only: what lets an identical later build reuse it. */
  fingerprint: string | null;
  /** The process running the build (platform/processes.ts processIdentity). */
  owner: string;
  /** The control-plane worker running the build; undefined for the local CLI. */
  worker: BuildWorker | undefined;
  /** What a farm build was queued as; undefined for the local CLI. */
  job: QueuedFor | undefined;
  /** From the steps' end to the artifacts' publication; undefined when nothing was published. */
  publishMs?: number | undefined;
  /** The scan's findings by severity (a succeeded build, with vulnerability data); undefined otherwise. */
  findings?: Readonly<Record<string, number>> | undefined;
  /** The steps with `network: true`. */
  network?: ReadonlySet<string> | undefined;
  /** Kiln's own version. */
  kilnVersion: string;
  reports: readonly StepReport[];
  results: ReadonlyMap<string, StepResult>;
  artifacts: BuildRecord['artifacts'];
  evidence: BuildRecord['evidence'];
}): BuildRecord {
  const { buildId, source } = input;
  const figures = cacheFigures(input.results);
  const flakySteps = input.reports.filter(isFlaky).length;
  const build = {
    id: buildId,
    project: input.project,
    repo_url: source.repoUrl,
    commit_sha: source.commit,
    subdir: source.subdir,
    dirty: source.dirty ? 1 : 0,
    builder_id: builderIdOf(input),
    runner: input.runner,
    started_at: input.startedAt.toISOString(),
    finished_at: input.finishedAt.toISOString(),
    duration_ms: input.finishedAt.getTime() - input.startedAt.getTime(),
    cache_hits: figures.hits,
    cache_misses: figures.misses,
    bytes_restored: figures.bytesRestored,
    time_saved_ms: figures.timeSavedMs,
    fingerprint: input.fingerprint,
    branch: source.branch,
    owner: input.owner,
    kiln_version: input.kilnVersion,
    worker_id: input.worker?.id ?? null,
    worker_host: input.worker?.host ?? null,
    worker_labels: input.worker ? JSON.stringify(input.worker.labels) : null,
    flaky_steps: flakySteps,
    publish_ms: input.publishMs ?? null,
    findings: input.findings ? JSON.stringify(input.findings) : null,
    job_project: input.job?.project ?? null,
    job_ref: input.job?.ref ?? null,
    ...input.outcome,
  };
  const steps = input.reports.map((r, position) => ({
    build_id: buildId,
    name: r.name,
    status: r.status,
    exit_code: r.exitCode,
    duration_ms: r.durationMs,
    started_at: r.startedAt,
    finished_at: r.finishedAt,
    log_path: r.logPath,
    position,
    attempts: r.attempts,
    flaky: isFlaky(r) ? 1 : 0,
    network: input.network?.has(r.name) ? 1 : 0,
  }));
  const stepActions = [...input.results.entries()].flatMap(([step, r]) =>
    r.key === undefined || r.ingredients === undefined
      ? []
      : [
          {
            build_id: buildId,
            step,
            project: input.project,
            action_key: r.key,
            cache: r.report.status === 'cached' ? ('hit' as const) : ('miss' as const),
            produced_by: r.producedBy ?? (r.tree ? buildId : null),
            outputs_digest: r.tree ? treeDigest(r.tree) : null,
            ingredients: ingredientsJson(r.ingredients),
            explanation: r.explanation.length ? JSON.stringify(r.explanation) : null,
          },
        ],
  );
  return { build, steps, artifacts: input.artifacts, evidence: input.evidence, stepActions };
}

/** Key ingredients of each step's last recorded run, parsed; unreadable rows are simply left out. */
export async function previousIngredients(
  store: Store,
  project: string,
  steps: readonly string[],
): Promise<Map<string, ActionIngredients>> {
  const out = new Map<string, ActionIngredients>();
  for (const [step, json] of await lastStepActions(store, project, steps)) {
    try {
      out.set(step, JSON.parse(json) as ActionIngredients);
    } catch {
      // An unreadable row only costs the explanation of a miss.
    }
  }
  return out;
}

/** The artifact and evidence rows of a delivered build: each file with its digest and the manifest it was published as. */
export function artifactRows(
  buildId: string,
  delivered: readonly DeliveredArtifact[],
  published: readonly PublishedArtifact[],
): Pick<BuildRecord, 'artifacts' | 'evidence'> {
  const artifacts = delivered.map((d) => ({
    build_id: buildId,
    name: d.name,
    digest: d.digest,
    size: d.size,
    path: d.path,
    manifest_digest: d.manifestDigest,
  }));
  const evidence = delivered.flatMap((d, i) =>
    (published[i]?.evidence ?? []).map((e, j) => {
      const kind = EVIDENCE[j]?.kind as EvidenceKind;
      return {
        build_id: buildId,
        artifact_name: d.name,
        kind,
        media_type: e.layer.mediaType,
        digest: e.layer.digest,
        path: d.evidence[kind],
        manifest_digest: e.manifest.digest,
      };
    }),
  );
  return { artifacts, evidence };
}
