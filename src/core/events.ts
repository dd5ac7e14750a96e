// One typed event stream feeds the CLI progress display and logs (and later metrics and the dashboard).

/** Everything observable about a build while it runs. */
export type KilnEvent =
  | { kind: 'build-started'; buildId: string; project: string; commit: string; subdir: string; dirty: boolean }
  /** No new build: an identical one already succeeded, and its files are in place in `outputDir`. */
  | { kind: 'build-reused'; buildId: string; commit: string; outputDir: string }
  | { kind: 'notice'; message: string }
  | { kind: 'warning'; message: string }
  | { kind: 'step-started'; step: string; explanation?: readonly string[] }
  | { kind: 'step-output'; step: string; line: string }
  | {
      kind: 'step-finished';
      step: string;
      status: 'succeeded' | 'cached' | 'failed' | 'skipped';
      exitCode: number | null;
      durationMs: number;
      logTail: readonly string[];
      /** The build whose cached outputs were replayed (status `cached`). */
      cachedFrom?: string;
    }
  | { kind: 'stage'; stage: 'package' | 'sbom' | 'scan' | 'sign' | 'gate' | 'publish' | 'record'; detail: string }
  | { kind: 'build-finished'; buildId: string; status: 'succeeded' | 'failed' | 'blocked'; durationMs: number };

/** Receives events; must not throw. */
export type EventSink = (event: KilnEvent) => void;
