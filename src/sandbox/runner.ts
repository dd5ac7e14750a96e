// The seam between the executor and how a step's process is isolated (host now, bubblewrap next).

/** What one step may use (kiln.yaml `limits`); memory and output in MiB. */
export interface StepLimits {
  readonly processes: number;
  readonly memory: number;
  readonly openFiles: number;
  readonly output: number;
}

/** A limit a step hit, as its error names it: `memory limit (512 MiB)`. */
export interface LimitHit {
  readonly limit: keyof StepLimits;
  readonly text: string;
}

/** A step ready to run: command, where, with exactly which environment. */
export interface StepInvocation {
  readonly name: string;
  readonly command: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly network: boolean;
  readonly logFile: string;
  /** Add to `logFile` instead of replacing it (a retried step keeps the log of every attempt). */
  readonly appendLog?: boolean;
  /** Called with each complete output line and its stream (stdout and stderr interleaved as they arrive). */
  readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Aborting stops the step and everything it started. */
  readonly signal?: AbortSignal;
  /** The step is stopped (and fails) after this long. */
  readonly timeoutMs?: number;
  /** Bounds on its processes, memory, open files and output; none when absent. */
  readonly limits?: StepLimits;
}

/** How a step's process ended. */
export interface StepOutcome {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly durationMs: number;
  /** The last lines of the log, for error messages. */
  readonly logTail: readonly string[];
  /** Set when the step failed because it hit one of its limits. */
  readonly limitHit?: LimitHit;
}

/** Runs one step; implementations decide isolation and say whether they sandbox the step. */
export interface StepRunner {
  readonly kind: 'host' | 'bubblewrap';
  /** Each step in a sandbox (no host files but its inputs and tools, no network unless asked). */
  readonly sandboxed: boolean;
  run(step: StepInvocation): Promise<StepOutcome>;
  /** Resolves once steps can run here, else rejects with a KilnError; awaited before steps may run. */
  ready?(): Promise<void>;
  /** The same runner over a builder root filesystem instead of the host toolchain (sandboxing runners only). */
  withRootfs?(dir: string): StepRunner;
  /** The same runner with `paths` (a key file, credentials) also kept from every step (sandboxing runners only). */
  hiding?(paths: readonly string[]): StepRunner;
}
