// One typed event stream for everything Kiln does: the CLI progress display, `KILN_LOG=json` logs, and later the
// metrics and the dashboard all read it. Code emits `KilnEvent`s into an injected `EventSink`; the composition root
// stamps each with the time (`TimedEvent`) before listeners see it.

/** A stage of a build, as the progress display names it. */
export type StageName = 'source' | 'package' | 'sbom' | 'scan' | 'sign' | 'gate' | 'publish' | 'record';

/** What the process is busy with in a long operation that reports progress. */
export type ProgressTask = 'db-import' | 'scan' | 'gc';

/** Everything observable about Kiln while it works. */
export type KilnEvent =
  | { kind: 'notice'; message: string }
  | { kind: 'warning'; message: string }
  // A build and its steps.
  | { kind: 'build-started'; buildId: string; project: string; commit: string; subdir: string; dirty: boolean }
  /** No new build: an identical one already succeeded, and its files are in place in `outputDir`. */
  | { kind: 'build-reused'; buildId: string; commit: string; outputDir: string }
  | { kind: 'stage'; stage: StageName; detail: string }
  | { kind: 'step-started'; step: string; explanation?: readonly string[] }
  | { kind: 'step-output'; step: string; stream: 'stdout' | 'stderr'; line: string }
  | {
      kind: 'step-finished';
      step: string;
      status: 'succeeded' | 'cached' | 'failed' | 'skipped';
      exitCode: number | null;
      durationMs: number;
      /** RFC 3339; for a replayed or skipped step, start and finish are the same instant. */
      startedAt: string;
      finishedAt: string;
      /** The step had network access (a dependency step): its duration is a dependency-fetch time. */
      network: boolean;
      logTail: readonly string[];
      /** The build whose cached outputs were replayed (status `cached`). */
      cachedFrom?: string;
      /** How many times its command ran, when more than once (kiln.yaml `retries`): succeeded then means flaky. */
      attempts?: number;
    }
  /** A step's command exited non-zero and runs again in a fresh directory (kiln.yaml `retries`). */
  | {
      kind: 'step-retry';
      step: string;
      /** The attempt that failed (1 for the first run) and how many the step may have. */
      attempt: number;
      maxAttempts: number;
      exitCode: number;
      durationMs: number;
      logTail: readonly string[];
    }
  | { kind: 'build-finished'; buildId: string; status: 'succeeded' | 'failed' | 'blocked'; durationMs: number }
  // The step cache.
  | {
      kind: 'cache-lookup';
      step: string;
      key: string;
      result: 'hit' | 'miss';
      /** Where a hit came from. */
      tier?: 'local' | 'remote';
      /** Why it missed (the first difference from the step's last recorded run), or what the hit replays. */
      why: string;
      /** Bytes of output a hit supplies instead of running the step. */
      bytes: number;
    }
  /** A step that ran stored its outputs: `bytes` is what the cache missed. */
  | { kind: 'cache-stored'; step: string; key: string; bytes: number }
  // Registries.
  | {
      kind: 'registry-request';
      registry: string;
      method: string;
      /** The API path, without query: `/v2/<repo>/blobs/<digest>`. */
      path: string;
      /** The HTTP status, or null when no answer came (connection failure, timeout). */
      status: number | null;
      /** 1 for the first try of a request, 2 for its first retry, … */
      attempt: number;
      /** Bytes sent plus bytes received. */
      bytes: number;
      durationMs: number;
    }
  | { kind: 'artifact-published'; artifact: string; registry: string; repository: string; digest: string }
  // Verification of signed evidence (kiln verify, kiln promote).
  | {
      kind: 'signature-verified';
      context: 'verify' | 'promote';
      /** The artifact the evidence is about (a path or registry reference). */
      subject: string;
      /** Which evidence: provenance, sbom, vulns, policy, … */
      evidence: string;
      ok: boolean;
      /** The failed check's message, or what passed. */
      why: string;
    }
  // Retention and other long work.
  | {
      kind: 'gc-action';
      action: 'remove-manifest' | 'delete-build' | 'remove-build-dir' | 'delete-blobs' | 'delete-copy' | 'keep-copy';
      target: string;
      detail?: string;
    }
  | { kind: 'progress'; task: ProgressTask; phase?: string; done: number; total?: number }
  /** A command failed: written by the surface that ran it (the CLI's JSON log), never by a use case. */
  | { kind: 'error'; code: string; message: string; hint: string | null; exitStatus: number };

/** An event as listeners see it: stamped with when it happened (RFC 3339, milliseconds). */
export type TimedEvent = KilnEvent & { readonly at: string };

/** Where code sends events; must not throw. */
export type EventSink = (event: KilnEvent) => void;

/** Receives stamped events (the progress display, a JSON log, metrics). */
export type EventListener = (event: TimedEvent) => void;

/** A sink that drops everything, for callers that watch nothing. */
export const IGNORE_EVENTS: EventSink = () => {};

/** The sink code emits into: stamps each event with `now()` and hands it to every listener. */
export function eventSink(now: () => Date, ...listeners: readonly EventListener[]): EventSink {
  return (event) => {
    const timed: TimedEvent = { ...event, at: now().toISOString() };
    for (const listener of listeners) listener(timed);
  };
}

/** What the display and a job's log both say when a step is run again after failing. */
export function stepRetryText(event: Extract<KilnEvent, { kind: 'step-retry' }>): string {
  return `step ${event.step} failed (exit ${event.exitCode}) on attempt ${event.attempt} of ${event.maxAttempts}; running it again (retries)`;
}
