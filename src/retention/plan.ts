// The retention plan: from the recorded builds, the promotions and what the OCI layout lists, decide what stays
// and what goes, and why. Pure (the clock is an input); apply.ts carries the plan out.
import { deepFreeze } from '../core/json.js';
import type { LayoutManifest } from '../registry/index.js';
import type { RetainedBuild, RetentionRecords } from '../store/index.js';
import { protectedManifests } from './protect.js';
import type { ArtifactDecision, BuildDecision, RegistryCopy, RetentionPlan, RetentionReason } from './types.js';

/** What the planner decides from. */
export interface RetentionInput {
  readonly project: string;
  readonly policy: { readonly keepLast: number; readonly rollbackDays: number };
  readonly environments: Readonly<Record<string, { readonly protected: boolean }>>;
  readonly now: Date;
  readonly records: RetentionRecords;
  readonly layout: { readonly dir: string; readonly manifests: readonly LayoutManifest[] };
  readonly outputDir: string;
  readonly publishTo: string | null;
}

/**
 * Decides every build's fate. A build stays when it is among the last `keepLast` succeeded builds of its branch
 * (builds without a branch form one group), when it failed or was blocked and is among the newest `keepLast`
 * builds of its branch, or when one of its artifacts is live in an environment or inside a protected
 * environment's rollback window. An artifact manifest goes only when no kept build (of any project) recorded it,
 * and everything hanging off it by `subject` goes with it; nothing else in the layout is touched.
 */
export function planRetention(input: RetentionInput): RetentionPlan {
  const { keepLast } = input.policy;
  const protectedEnvironments = Object.entries(input.environments)
    .filter(([, env]) => env.protected)
    .map(([name]) => name)
    .sort();
  const protection = protectedManifests({
    project: input.project,
    promotions: input.records.promotions,
    protectedEnvironments,
    rollbackDays: input.policy.rollbackDays,
    now: input.now,
  });
  const builds = [...input.records.builds].sort(newestFirst);

  // First pass: the branch rule, then promotions keep a build whatever its age.
  const counts = new Map<string | null, { all: number; succeeded: number }>();
  const first = builds.map((b) => {
    if (b.status === 'running') {
      return { build: b, keep: true, reasons: [{ kind: 'running', startedAt: b.startedAt } as RetentionReason] };
    }
    const count = counts.get(b.branch) ?? { all: 0, succeeded: 0 };
    count.all++;
    if (b.status === 'succeeded') count.succeeded++;
    counts.set(b.branch, count);
    const reasons: RetentionReason[] = [branchReason(b, count, keepLast)];
    for (const a of b.artifacts) {
      if (protection.keep.has(a.manifestDigest)) reasons.push({ kind: 'artifact-kept', artifact: a.name });
    }
    const keep = reasons.some((r) => r.kind !== 'older-succeeded' && r.kind !== 'older-attempt');
    return { build: b, keep, reasons };
  });

  // Who keeps each manifest: a kept build of this project, else any build of another project (gc of this project
  // never removes those).
  const keptBy = new Map<string, { buildId: string; project: string }>();
  for (const s of input.records.sharedElsewhere) {
    keptBy.set(s.manifestDigest, { buildId: s.buildId, project: s.project });
  }
  for (const { build, keep } of first) {
    if (!keep) continue;
    for (const a of build.artifacts) keptBy.set(a.manifestDigest, { buildId: build.id, project: build.project });
  }

  const referrers = referrersBySubject(input.layout.manifests);
  const listed = new Set(input.layout.manifests.map((m) => m.digest as string));
  // A kept or protected manifest never goes, nor anything hanging off it, even if it also hangs off one that goes.
  const stays = new Set<string>();
  for (const d of [...keptBy.keys(), ...protection.keep.keys()]) {
    for (const k of [d, ...hangingOff(d, referrers)]) stays.add(k);
  }
  const remove = new Set<string>();
  const decisions: BuildDecision[] = first.map(({ build, keep, reasons }) => {
    const artifacts = build.artifacts.map((a): ArtifactDecision => {
      const evidence = hangingOff(a.manifestDigest, referrers);
      const base = { name: a.name, manifest: a.manifestDigest, path: a.path, inLayout: listed.has(a.manifestDigest) };
      const guarded = protection.keep.get(a.manifestDigest) ?? [];
      if (keep) return { ...base, keep: true, reasons: guarded, evidence };
      const owner = keptBy.get(a.manifestDigest);
      if (owner !== undefined) {
        return { ...base, keep: true, reasons: [{ kind: 'shared', ...owner }], evidence };
      }
      const going = evidence.filter((d) => !stays.has(d));
      for (const d of [a.manifestDigest, ...going]) if (listed.has(d) && !stays.has(d)) remove.add(d);
      return { ...base, keep: false, reasons: protection.ended.get(a.manifestDigest) ?? [], evidence: going };
    });
    return {
      id: build.id,
      project: build.project,
      branch: build.branch,
      status: build.status,
      commit: build.commit,
      startedAt: build.startedAt,
      keep,
      reasons,
      artifacts,
    };
  });

  const gone = decisions.filter((d) => !d.keep);
  const goingManifests = new Set(gone.flatMap((d) => d.artifacts.filter((a) => !a.keep).map((a) => a.manifest)));
  const copies = new Map<string, RegistryCopy>();
  for (const p of input.records.promotions) {
    if (!goingManifests.has(p.manifest_digest)) continue;
    const copy = { manifest: p.manifest_digest, environment: p.environment, ref: p.to_ref };
    copies.set(`${copy.environment}\u0000${copy.ref}`, copy);
  }
  for (const p of input.records.publications) {
    if (!goingManifests.has(p.manifestDigest)) continue;
    copies.set(`published\u0000${p.ref}`, { manifest: p.manifestDigest, environment: 'published', ref: p.ref });
  }
  const recorded = new Set([
    ...builds.flatMap((b) => b.artifacts.map((a) => a.manifestDigest)),
    ...input.records.namesakes,
  ]);
  const unrecorded = input.layout.manifests
    .filter((m) => !recorded.has(m.digest) && m.refNames.some((r) => r.startsWith(`${input.project}/`)))
    .map((m) => m.digest as string);

  return deepFreeze({
    project: input.project,
    now: input.now.toISOString(),
    policy: { keepLast, rollbackDays: input.policy.rollbackDays },
    protectedEnvironments,
    builds: decisions,
    layout: {
      dir: input.layout.dir,
      remove: [...remove].sort(),
      artifacts: [...remove].filter((d) => goingManifests.has(d)).length,
      evidence: [...remove].filter((d) => !goingManifests.has(d)).length,
      unrecorded,
    },
    store: { remove: gone.map((d) => d.id), keep: decisions.length - gone.length },
    outputDir: input.outputDir,
    registry: { copies: [...copies.values()], publishTo: input.publishTo },
  });
}

function branchReason(b: RetainedBuild, count: { all: number; succeeded: number }, keepLast: number): RetentionReason {
  const { branch } = b;
  if (b.status === 'succeeded') {
    return count.succeeded <= keepLast
      ? { kind: 'last-succeeded', branch, position: count.succeeded, keepLast }
      : { kind: 'older-succeeded', branch, keepLast };
  }
  return count.all <= keepLast
    ? { kind: 'last-attempt', branch, position: count.all, keepLast }
    : { kind: 'older-attempt', branch, keepLast };
}

/** Newest first by start time, then id (as `kiln builds` lists them). */
function newestFirst(a: RetainedBuild, b: RetainedBuild): number {
  if (a.startedAt !== b.startedAt) return a.startedAt < b.startedAt ? 1 : -1;
  return a.id === b.id ? 0 : a.id < b.id ? 1 : -1;
}

function referrersBySubject(manifests: readonly LayoutManifest[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of manifests) {
    if (m.subject !== undefined) out.set(m.subject, [...(out.get(m.subject) ?? []), m.digest]);
  }
  return out;
}

/** Every manifest whose subject chain leads to `digest` (not `digest` itself), sorted. */
function hangingOff(digest: string, referrers: ReadonlyMap<string, readonly string[]>): string[] {
  const seen = new Set<string>([digest]);
  const queue = [digest];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    for (const r of referrers.get(next) ?? []) {
      if (seen.has(r)) continue;
      seen.add(r);
      queue.push(r);
    }
  }
  seen.delete(digest);
  return [...seen].sort();
}
