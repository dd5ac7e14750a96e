// Which artifact manifests promotions protect: each environment's live one, and what a protected environment got
// within its rollback window. Pure: the clock comes in as `now`.
import type { RetentionReason } from './types.js';

/** The fields of a promotion row retention reads. */
export interface PromotionFact {
  readonly id: string;
  readonly project: string;
  readonly manifest_digest: string;
  readonly environment: string;
  readonly promoted_at: string;
}

/** Manifest digest → reasons it must stay (`keep`), and notes on windows that ended (`ended`). */
export interface Protection {
  readonly keep: ReadonlyMap<string, readonly RetentionReason[]>;
  readonly ended: ReadonlyMap<string, readonly RetentionReason[]>;
}

const DAY_MS = 86_400_000;

/**
 * The latest promotion per (project, environment) is what that environment runs: kept, whatever its age. For the
 * project's protected environments, every manifest promoted there is kept until `rollbackDays` after its last
 * promotion there (kept while `now` is before that instant).
 */
export function protectedManifests(input: {
  project: string;
  promotions: readonly PromotionFact[];
  protectedEnvironments: readonly string[];
  rollbackDays: number;
  now: Date;
}): Protection {
  const keep = new Map<string, RetentionReason[]>();
  const ended = new Map<string, RetentionReason[]>();
  const add = (map: Map<string, RetentionReason[]>, digest: string, reason: RetentionReason) =>
    map.set(digest, [...(map.get(digest) ?? []), reason]);

  const latest = new Map<string, PromotionFact>();
  for (const row of input.promotions) {
    const key = `${row.project}\u0000${row.environment}`;
    const seen = latest.get(key);
    if (seen === undefined || compareRows(row, seen) > 0) latest.set(key, row);
  }
  for (const row of [...latest.values()].sort(compareRows)) {
    add(keep, row.manifest_digest, {
      kind: 'live',
      project: row.project,
      environment: row.environment,
      promotedAt: row.promoted_at,
    });
  }

  const isProtected = new Set(input.protectedEnvironments);
  const last = new Map<string, PromotionFact>();
  for (const row of input.promotions) {
    if (row.project !== input.project || !isProtected.has(row.environment)) continue;
    const key = `${row.manifest_digest}\u0000${row.environment}`;
    const seen = last.get(key);
    if (seen === undefined || compareRows(row, seen) > 0) last.set(key, row);
  }
  for (const row of [...last.values()].sort(compareRows)) {
    const at = Date.parse(row.promoted_at);
    const base = { environment: row.environment, promotedAt: row.promoted_at };
    if (Number.isNaN(at)) {
      add(keep, row.manifest_digest, { kind: 'rollback', ...base, until: null }); // cannot tell: keep
      continue;
    }
    const until = new Date(at + input.rollbackDays * DAY_MS).toISOString();
    if (input.now.getTime() < at + input.rollbackDays * DAY_MS) {
      add(keep, row.manifest_digest, { kind: 'rollback', ...base, until });
    } else {
      add(ended, row.manifest_digest, { kind: 'rollback-ended', ...base, until });
    }
  }
  return { keep, ended };
}

/** Older first: by time, then (same or unreadable time) by the text and the row id. */
function compareRows(a: PromotionFact, b: PromotionFact): number {
  const ta = Date.parse(a.promoted_at);
  const tb = Date.parse(b.promoted_at);
  if (!Number.isNaN(ta) && !Number.isNaN(tb) && ta !== tb) return ta - tb;
  if (a.promoted_at !== b.promoted_at) return a.promoted_at < b.promoted_at ? -1 : 1;
  return a.id === b.id ? 0 : a.id < b.id ? -1 : 1;
}
