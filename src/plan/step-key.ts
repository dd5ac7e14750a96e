// A planned step's action key: its declared inputs as in the clean tree, its needs' output digests and the builder.
import type { Digest } from '../core/digest.js';
import { expandInputsFrom, type InputFile, type InputIndex } from './inputs.js';
import { type ActionIngredients, actionIngredients, actionKey } from './key.js';
import type { PlannedStep } from './steps.js';

/** The step's input files, key ingredients and action key; `upstream` holds the output digest of each need. */
export async function stepKey(
  step: PlannedStep,
  upstream: Readonly<Record<string, Digest>>,
  index: InputIndex,
  builder: Digest,
): Promise<{ inputs: InputFile[]; ingredients: ActionIngredients; key: string }> {
  const inputs = await expandInputsFrom(index, step.inputs);
  const ingredients = actionIngredients({
    command: step.run,
    env: step.env,
    network: step.network,
    outputs: step.outputs,
    inputs,
    upstream,
    builder,
  });
  return { inputs, ingredients, key: actionKey(ingredients) };
}
