// What running (or planning) the steps needs, set up the same way for `kiln build` and `kiln plan`.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { type CacheModes, parseCacheMode } from '../../cache/modes.js';
import { openStepCache } from '../../cache/open.js';
import type { KilnPaths } from '../../core/home.js';
import { lazyPreviousIngredients } from '../../execute/run-step.js';
import { expandInputsFrom } from '../../plan/inputs.js';
import { sourceView } from '../../plan/source-view.js';
import { type PlannedStep, planSteps } from '../../plan/steps.js';
import { type BuilderIdentity, stepPath } from '../../sandbox/identity.js';
import type { StepRunner } from '../../sandbox/index.js';
import type { Store } from '../../store/index.js';
import type { BuildEnvironment } from './build.js';
import type { PreparedBuild } from './prepare.js';
import { previousIngredients } from './record.js';

/** Everything the executor needs besides the build id and the event sink, for `kiln build` and `kiln plan` alike. */
export async function setupSteps(
  prepared: PreparedBuild,
  opts: {
    workDir: string;
    paths: KilnPaths;
    /** The caller's environment (PATH, the remote cache settings) and where warnings go. */
    world: Pick<BuildEnvironment, 'env' | 'emit'>;
    runner: StepRunner;
    builder: BuilderIdentity;
    /** Both tiers read-write unless said otherwise. */
    cacheModes: CacheModes | undefined;
    store: Store;
  },
) {
  const { source, config } = prepared;
  const { env } = opts.world;
  const view = await sourceView(
    source,
    join(opts.workDir, 'tree'),
    { PATH: env.PATH },
    { blobMemo: opts.paths.blobMemo },
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
  // Hash every declared input in one pass (one git process), rather than once per step.
  await expandInputsFrom(view.inputs, [...new Set(steps.flatMap((s) => s.inputs))]);
  // `local` is the persistent cache, or a scratch one when the local tier is off.
  const { cache, local, writable } = await openStepCache({
    paths: opts.paths,
    workDir: opts.workDir,
    modes: opts.cacheModes ?? parseCacheMode('local:rw,remote:rw'),
    remote: {
      url: config.cache.remote ?? env.KILN_REMOTE_CACHE,
      authorization: env.KILN_REMOTE_CACHE_AUTH,
    },
    signer: prepared.signing.signer,
    trustFiles: config.cache.trust,
    projectPath: prepared.projectPath,
    onWarning: (message: string) => opts.world.emit({ kind: 'warning', message }),
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
