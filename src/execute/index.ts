// The execute stage: the step DAG run over the sandbox and the cache, each step keyed, replayed or run.
export { executeSteps } from './dag.js';
export { isFlaky, lazyPreviousIngredients } from './reports.js';
export type { PreviousIngredients, StepContext, StepReport, StepResult } from './types.js';
