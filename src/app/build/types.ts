// What a build is asked, what it answers, and the world its parts share.

import type { BuildWorker } from '../../attest/index.js';
import type { CacheModes } from '../../cache/modes.js';
import type { BuildCacheFigures } from '../../cache/stats.js';
import type { PublishConfig } from '../../config/index.js';
import type { EventListener } from '../../core/events.js';
import type { StepReport } from '../../execute/index.js';
import type { StepRunner } from '../../sandbox/index.js';
import type { RemoteSource } from '../../source/index.js';
import type { KilnPorts } from '../ports.js';
import type { DeliveredArtifact } from './deliver.js';

/** What a user asks for when building (or planning). Paths are relative to the caller's directory. */
export interface BuildRequest {
  /**
   * The project directory; with `remote`, the local directory the kiln.yaml `output` directory is delivered under
   * (and paths in kiln.yaml that name local files, such as `signing.key`, are resolved from).
   */
  readonly projectPath: string;
  /**
   * Build a commit of a remote repository (through its mirror in $KILN_HOME/mirrors) instead of the local one
   * holding `projectPath`; `rev` and `allowDirty` do not apply (the ref is `remote.ref`, the tree is never dirty).
   */
  readonly remote?: RemoteSource | undefined;
  /** A commit, branch or tag to build instead of HEAD. */
  readonly rev?: string | undefined;
  /** Build the working tree's uncommitted changes too (provenance records the tree as dirty). */
  readonly allowDirty: boolean;
  /** The signing key file (`--key`); else KILN_SIGNING_KEY, kiln.yaml `signing.key`, the local key. */
  readonly key?: string | undefined;
  /** `bubblewrap` (default) or `host`. */
  readonly runner?: string | undefined;
  /** Which cache tiers to read and write (`local:rw,remote:r`); both read-write by default. */
  readonly cache?: string | undefined;
  /** Build even when an identical build already succeeded (see reuse.ts). */
  readonly force?: boolean | undefined;
  /**
   * The control-plane worker running this build (`kiln serve --config`): its provenance then names the control-plane
   * builder and the worker, and its record the worker. Absent for the local CLI.
   */
  readonly worker?: BuildWorker | undefined;
  /** The kiln-server.yaml project and ref a worker's build was queued for: recorded, the labels of its metrics. */
  readonly job?: QueuedFor | undefined;
}

/** What a farm build was queued as. */
export interface QueuedFor {
  readonly project: string;
  /** The ref submitted (a branch, a tag or a commit). */
  readonly ref: string;
}

/** Points a crash test can stop a build at (kill -9 there must leave nothing half-visible). */
export type BuildCheckpoint = 'before-deliver' | 'while-delivering' | 'before-record';

/** How a build call may be steered from outside. */
export interface BuildOptions {
  /** Aborted on Ctrl-C/SIGTERM: running steps are stopped and the build is recorded as failed. */
  readonly signal?: AbortSignal | undefined;
  /** Test seam: called between stages; a crash test kills the process at a named point. */
  readonly checkpoint?: ((name: BuildCheckpoint) => void) | undefined;
  /**
   * Also receives this build's events (stamped), besides the ports' sink: a server running several builds at once
   * keeps each one's log apart. Must not throw.
   */
  readonly onEvent?: EventListener | undefined;
}

/** The ports plus what this build asked for, shared by its parts. */
export interface BuildWorld {
  readonly ports: KilnPorts;
  readonly runner: StepRunner;
  readonly cacheModes: CacheModes;
  /** The control-plane worker running the build; undefined for the local CLI. */
  readonly worker?: BuildWorker | undefined;
  readonly job?: QueuedFor | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly checkpoint?: ((name: BuildCheckpoint) => void) | undefined;
}

/** A succeeded build, as `kiln build --json` prints it. */
export interface BuildResult {
  readonly buildId: string;
  readonly commit: string;
  readonly status: 'succeeded';
  /** True when an identical earlier build (`buildId`) was handed back instead of building again. */
  readonly upToDate: boolean;
  readonly artifacts: readonly DeliveredArtifact[];
  readonly cache: BuildCacheFigures;
  readonly steps: readonly StepSummary[];
  /** How many steps passed only after failing (kiln.yaml `retries`): 0 for a clean build. */
  readonly flakySteps: number;
  /** kiln.yaml's `publish:` section; null without one. */
  readonly publish: PublishConfig | null;
}

/** One step as `--json` and `--explain` show it. */
export interface StepSummary {
  readonly name: string;
  readonly status: StepReport['status'];
  readonly durationMs: number;
  readonly key: string | null;
  readonly cache: 'hit' | 'miss';
  readonly producedBy: string | null;
  readonly explanation: readonly string[];
  /** How many times its command ran (0: replayed or skipped); flaky when it passed only after failing. */
  readonly attempts: number;
  readonly flaky: boolean;
}
