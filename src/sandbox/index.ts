// Step runners: the host runner now; bubblewrap comes next behind the same interface.
export { hostRunner } from './host.js';
export type { StepInvocation, StepOutcome, StepRunner } from './runner.js';
