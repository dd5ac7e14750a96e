// Action keys: sha256 over a canonical encoding of everything that can change a step's outputs.
import type { Digest } from '../core/digest.js';
import { sha256Hex } from '../core/digest.js';
import { canonicalJson, deepFreeze } from '../core/json.js';
import type { InputFile } from './inputs.js';

/** Bumped whenever the key encoding or the cached tree format changes, so old entries simply miss. */
export const CACHE_FORMAT_VERSION = 1;

/** Everything a step's key is made of; stored with each build so a later miss can be explained. */
export interface ActionIngredients {
  readonly format: number;
  readonly command: string;
  readonly env: Readonly<Record<string, string>>;
  readonly network: boolean;
  readonly outputs: readonly string[];
  readonly inputs: readonly InputFile[];
  /** Output tree digests of the steps this one needs, by step name. */
  readonly upstream: Readonly<Record<string, Digest>>;
  readonly builder: Digest;
}

/** The ingredients of a step, normalized (sorted) and frozen. */
export function actionIngredients(step: {
  command: string;
  env: Readonly<Record<string, string>>;
  network: boolean;
  outputs: readonly string[];
  inputs: readonly InputFile[];
  upstream: Readonly<Record<string, Digest>>;
  builder: Digest;
}): ActionIngredients {
  return deepFreeze({
    format: CACHE_FORMAT_VERSION,
    command: step.command,
    env: { ...step.env },
    network: step.network,
    outputs: [...step.outputs].sort(),
    inputs: [...step.inputs].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    upstream: { ...step.upstream },
    builder: step.builder,
  });
}

/** The 64-hex action key of a step. */
export function actionKey(ingredients: ActionIngredients): string {
  return sha256Hex(ingredientsJson(ingredients));
}

const serialized = new WeakMap<ActionIngredients, string>();

/** The canonical JSON the key hashes (and the store keeps to explain later misses), serialized once per object. */
export function ingredientsJson(ingredients: ActionIngredients): string {
  let json = serialized.get(ingredients);
  if (json === undefined) {
    json = canonicalJson(ingredients);
    serialized.set(ingredients, json);
  }
  return json;
}
