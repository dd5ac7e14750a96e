// The planner's output: what the executor runs.

/** A step ready for the executor: a concrete command with project-relative inputs and outputs. */
export interface PlannedStep {
  readonly name: string;
  readonly run: string;
  readonly needs: readonly string[];
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly network: boolean;
  /** Seconds before the step is stopped. */
  readonly timeout: number;
  /** Times the command runs again after a non-zero exit (kiln.yaml `retries`); not part of the action key. */
  readonly retries: number;
}
