// What running (or planning) the steps needs, set up the same way for `kiln build` and `kiln plan`.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { signerSeal } from '../../attest/seal.js';
import { openStepCache } from '../../cache/open.js';
import { lazyPreviousIngredients } from '../../execute/index.js';
import { expandInputsFrom, refuseSubmoduleInputs } from '../../plan/inputs.js';
import { sourceView } from '../../plan/source-view.js';
import { type PlannedStep, planSteps } from '../../plan/steps.js';
import { type BuilderIdentity, stepPath } from '../../sandbox/identity.js';
import type { StepRunner } from '../../sandbox/index.js';
import type { Store } from '../../store/index.js';
import type { PreparedBuild } from './prepare.js';
import { previousIngredients } from './record.js';
import type { BuildWorld } from './types.js';

/** Everything the executor needs besides the build id and the event sink, for `kiln build` and `kiln plan` alike. */
export async function setupSteps(
  world: BuildWorld,
  prepared: PreparedBuild,
  opts: { workDir: string; runner: StepRunner; builder: BuilderIdentity; store: Store },
) {
  const { ports } = world;
  const { source, config } = prepared;
  const { env } = ports;
  const view = await sourceView(
    source,
    join(opts.workDir, 'tree'),
    { PATH: env.PATH },
    { blobMemo: { file: ports.home.blobMemo, seal: signerSeal(prepared.signing.signer) } },
  );
  const baseEnv = {
    PATH: stepPath(opts.runner, env),
    HOME: join(opts.workDir, 'home'),
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    SOURCE_DATE_EPOCH: String(source.sourceDateEpoch),
  };
  await fsp.mkdir(baseEnv.HOME, { recursive: true });
  const steps: PlannedStep[] = await planSteps(config, view.projectDir, view);
  for (const step of steps) refuseSubmoduleInputs(view.inputs, step.name, step.inputs);
  // Hash every declared input in one pass (one git process), rather than once per step.
  await expandInputsFrom(view.inputs, [...new Set(steps.flatMap((s) => s.inputs))]);
  const pointers = view.inputs.lfsPointers();
  if (pointers.length > 0) ports.events({ kind: 'warning', message: lfsWarning(pointers) });
  // `local` is the persistent cache, or a scratch one when the local tier is off.
  const { cache, local, writable } = await openStepCache({
    localDir: ports.cache.localDir,
    workDir: opts.workDir,
    modes: world.cacheModes,
    remote: { url: config.cache.remote ?? ports.cache.remote.url, authorization: ports.cache.remote.authorization },
    signer: prepared.signing.signer,
    trustFiles: config.cache.trust,
    projectPath: prepared.projectPath,
    onWarning: (message: string) => ports.events({ kind: 'warning', message }),
  });
  const previous = lazyPreviousIngredients(() =>
    previousIngredients(
      opts.store,
      config.name,
      steps.map((s) => s.name),
    ),
  );
  return { view, baseEnv, steps, cache, local, writable, previous };
}

/** Kiln reads the commit as git stores it and runs no git-lfs: steps would get the pointer text, not the file. */
function lfsWarning(paths: readonly string[]): string {
  const shown = paths.slice(0, 5).join(', ') + (paths.length > 5 ? `, … (${paths.length} in all)` : '');
  return `inputs ${shown} are Git LFS pointer files: steps see the pointer text, not the file it stands for (Kiln does not run git-lfs); commit the files themselves, or fetch them in a step with network: true`;
}
