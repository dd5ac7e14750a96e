// The human report of a retention plan (and of applying it): every build with what happens to it and why.
import { isoSeconds } from '../core/time.js';
import type { RetentionResult } from './apply.js';
import type { ArtifactDecision, BuildDecision, RetentionPlan, RetentionReason } from './types.js';

/** One sentence for a reason, e.g. `older than the last 2 succeeded builds of main`. */
export function describeReason(r: RetentionReason): string {
  switch (r.kind) {
    case 'last-succeeded':
      return `among the last ${r.keepLast} succeeded builds of ${branchLabel(r.branch)} (#${r.position})`;
    case 'last-attempt':
      return `among the newest ${r.keepLast} builds of ${branchLabel(r.branch)} (#${r.position})`;
    case 'older-succeeded':
      return `older than the last ${r.keepLast} succeeded builds of ${branchLabel(r.branch)}`;
    case 'older-attempt':
      return `older than the newest ${r.keepLast} builds of ${branchLabel(r.branch)} (a failed or blocked build has no artifacts)`;
    case 'running':
      return `still running (started ${when(r.startedAt)})`;
    case 'live':
      return `live in environment "${r.environment}" (its latest promotion, ${when(r.promotedAt)})`;
    case 'rollback':
      return r.until === null
        ? `promoted to protected environment "${r.environment}" at an unreadable time (${r.promotedAt}): kept`
        : `promoted to protected environment "${r.environment}" on ${when(r.promotedAt)}: inside the rollback window until ${when(r.until)}`;
    case 'rollback-ended':
      return `promoted to protected environment "${r.environment}" on ${when(r.promotedAt)}; its rollback window ended ${when(r.until)}`;
    case 'artifact-kept':
      return `its artifact ${r.artifact} must stay`;
    case 'shared':
      return `build ${r.buildId} (${r.project}) recorded the same manifest and stays`;
  }
}

/** The report, one line per string: header, builds grouped by branch, then what is left alone. */
export function retentionReport(plan: RetentionPlan, applied?: RetentionResult): string[] {
  const envs = plan.protectedEnvironments;
  const protectedPart = envs.length
    ? `, and what protected environment${envs.length > 1 ? 's' : ''} ${envs.join(', ')} got in the last ${plan.policy.rollbackDays} days`
    : '';
  const lines = [
    `kiln gc ${plan.project} (now ${when(plan.now)}): keep the last ${plan.policy.keepLast} succeeded builds of each branch, what each environment runs${protectedPart}`,
  ];
  if (!applied) lines.push('dry run: nothing is removed; run again with --apply to remove what is marked "goes"');
  const groups = new Map<string | null, BuildDecision[]>();
  for (const b of plan.builds) groups.set(b.branch, [...(groups.get(b.branch) ?? []), b]);
  if (groups.size === 0) lines.push('', 'no builds of this project are recorded');
  for (const [branch, builds] of groups) {
    lines.push('', branch === null ? '(no branch): detached HEAD, or --rev of no local branch; one group' : branch);
    for (const b of builds) lines.push(...buildLines(b));
  }
  const { layout, store } = plan;
  lines.push(
    '',
    `layout: ${count(layout.artifacts, 'artifact manifest')} and ${count(layout.evidence, 'evidence manifest')} go from ${layout.dir}/index.json; then the blobs nothing listed there needs`,
    `store:  ${store.remove.length} of ${store.remove.length + store.keep} builds go, with their steps, artifacts, evidence, step actions and logs; promotions stay as history`,
    `left:   delivered files in ${plan.outputDir} are yours; gc never removes them`,
  );
  const going = layout.artifacts > 0;
  if (going && (plan.registry.copies.length > 0 || plan.registry.publishTo !== null)) {
    lines.push('registry: the copies of what goes are deleted too (evidence first), where the registry allows it:');
    if (plan.registry.publishTo) lines.push(`          in ${plan.registry.publishTo}, if they were published there`);
    for (const c of plan.registry.copies) lines.push(`          ${c.environment}: ${c.ref}`);
  }
  if (layout.unrecorded.length > 0) {
    lines.push(
      `left:   ${layout.unrecorded.length} manifests named ${plan.project}/… that no recorded build names (a build may be publishing them)`,
    );
  }
  if (applied) lines.push('', ...appliedLines(applied));
  return lines;
}

function buildLines(b: BuildDecision): string[] {
  const head = `  ${b.keep ? 'stays' : 'goes '}  ${b.id}  ${b.status.padEnd(9)}  ${when(b.startedAt)}  ${b.commit.slice(0, 12)}`;
  // The branch rule first; an artifact that must stay says why on its own line.
  const [rule, ...rest] = b.reasons;
  const forArtifact = rest.some((r) => r.kind === 'artifact-kept');
  const out = [head];
  if (rule)
    out.push(
      `         ${describeReason(rule)}${forArtifact && !isKeeping(rule) ? ', but kept for its artifact:' : ''}`,
    );
  for (const r of rest) if (r.kind !== 'artifact-kept') out.push(`         ${describeReason(r)}`);
  for (const a of b.artifacts) out.push(`         ${artifactLine(a)}`);
  return out;
}

function isKeeping(r: RetentionReason): boolean {
  return r.kind === 'last-succeeded' || r.kind === 'last-attempt' || r.kind === 'running';
}

function artifactLine(a: ArtifactDecision): string {
  const where = a.inLayout ? '' : ' (not in the layout)';
  const evidence = a.evidence.length ? `, with ${a.evidence.length} evidence manifests` : '';
  const why = a.reasons.length ? `: ${a.reasons.map(describeReason).join('; ')}` : '';
  return `artifact ${a.name} ${a.manifest.slice(0, 19)}…${where} ${a.keep ? 'stays' : 'goes'}${evidence}${why}`;
}

function appliedLines(r: RetentionResult): string[] {
  const lines = [
    `applied: ${count(r.manifestsRemoved, 'manifest')} out of index.json, ${count(r.buildsDeleted, 'build')} out of the store (${count(r.buildDirsRemoved, 'log directory', 'log directories')}), ${count(r.blobs.removed.length, 'blob')} deleted (${bytes(r.blobs.bytesRemoved)})`,
  ];
  if (r.blobs.young > 0) {
    lines.push(
      `kept:    ${r.blobs.young} unreferenced blobs written too recently to be sure no publish needs them; a later gc removes them`,
    );
  }
  if (r.blobs.staleTempFiles > 0) lines.push(`removed: ${r.blobs.staleTempFiles} temp files left by killed writers`);
  if (r.blobs.missingManifests.length > 0) {
    lines.push(`warning: index.json lists manifests whose blobs are missing: ${r.blobs.missingManifests.join(', ')}`);
  }
  return lines;
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function branchLabel(branch: string | null): string {
  return branch === null ? '(no branch)' : branch;
}

/** `2026-11-26T06:01:02Z` for an ISO time; anything unreadable as it is. */
function when(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : isoSeconds(new Date(t));
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}
