// The vocabulary of `kiln gc`: why each build and artifact stays or goes, and the plan apply.ts carries out.

/** Why a build or artifact stays or goes; `branch` null is the "(no branch)" group. */
export type RetentionReason =
  /** Among the last `keepLast` succeeded builds of its branch (`position` 1 = newest). */
  | {
      readonly kind: 'last-succeeded';
      readonly branch: string | null;
      readonly position: number;
      readonly keepLast: number;
    }
  /** A failed or blocked build among the newest `keepLast` builds of its branch (any status). */
  | {
      readonly kind: 'last-attempt';
      readonly branch: string | null;
      readonly position: number;
      readonly keepLast: number;
    }
  /** A succeeded build older than the last `keepLast` succeeded builds of its branch. */
  | { readonly kind: 'older-succeeded'; readonly branch: string | null; readonly keepLast: number }
  /** A failed or blocked build (no artifacts) older than the newest `keepLast` builds of its branch. */
  | { readonly kind: 'older-attempt'; readonly branch: string | null; readonly keepLast: number }
  /** A build still running (or whose process is gone but not yet marked failed): its rows are still to come. */
  | { readonly kind: 'running'; readonly startedAt: string }
  /** The artifact an environment runs now: the latest promotion to it. */
  | { readonly kind: 'live'; readonly project: string; readonly environment: string; readonly promotedAt: string }
  /** Promoted to a protected environment, last on `promotedAt`: kept until `until` (null: unreadable time, kept). */
  | {
      readonly kind: 'rollback';
      readonly environment: string;
      readonly promotedAt: string;
      readonly until: string | null;
    }
  /** Promoted to a protected environment, but its rollback window ended (a note on something that goes). */
  | {
      readonly kind: 'rollback-ended';
      readonly environment: string;
      readonly promotedAt: string;
      readonly until: string;
    }
  /** A build kept because one of its artifacts must stay. */
  | { readonly kind: 'artifact-kept'; readonly artifact: string }
  /** An artifact manifest another kept build (of this or another project) recorded too. */
  | { readonly kind: 'shared'; readonly buildId: string; readonly project: string };

/** What retention knows about one artifact of a build, and what happens to it. */
export interface ArtifactDecision {
  readonly name: string;
  readonly manifest: string;
  /** Where the build delivered it (the user's file: never removed). */
  readonly path: string;
  readonly keep: boolean;
  readonly reasons: readonly RetentionReason[];
  /** Whether index.json lists the artifact manifest. */
  readonly inLayout: boolean;
  /** Layout manifests hanging off it by `subject` (evidence, and evidence of evidence): they share its fate. */
  readonly evidence: readonly string[];
}

/** One build, and whether it stays (all its rows and manifests) or goes. */
export interface BuildDecision {
  readonly id: string;
  readonly project: string;
  readonly branch: string | null;
  readonly status: 'running' | 'succeeded' | 'failed' | 'blocked';
  readonly commit: string;
  readonly startedAt: string;
  readonly keep: boolean;
  readonly reasons: readonly RetentionReason[];
  readonly artifacts: readonly ArtifactDecision[];
}

/** A copy of a going artifact in a registry (from a promotion), deleted there by registry.ts. */
export interface RegistryCopy {
  readonly manifest: string;
  readonly environment: string;
  readonly ref: string;
}

/** Everything `kiln gc` would do, decided before anything is touched. */
export interface RetentionPlan {
  readonly project: string;
  readonly now: string;
  readonly policy: { readonly keepLast: number; readonly rollbackDays: number };
  readonly protectedEnvironments: readonly string[];
  /** Newest first. */
  readonly builds: readonly BuildDecision[];
  readonly layout: {
    readonly dir: string;
    /** Every manifest digest to take out of index.json: going artifacts and everything hanging off them. */
    readonly remove: readonly string[];
    readonly artifacts: number;
    readonly evidence: number;
    /** Manifests of this project (by ref name) that no recorded build names: a build may be publishing them now. */
    readonly unrecorded: readonly string[];
  };
  readonly store: { readonly remove: readonly string[]; readonly keep: number };
  /** Delivered files are the user's: gc never removes them. */
  readonly outputDir: string;
  readonly registry: { readonly copies: readonly RegistryCopy[]; readonly publishTo: string | null };
}
