// What running (or planning) the steps needs, set up the same way for `kiln build` and `kiln plan`.
import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { type CacheModes, parseCacheMode } from '../cache/remote-mode.js';
import { digestHex, sha256Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import type { KilnPaths } from '../core/home.js';
import { canonicalJson } from '../core/json.js';
import { expandInputsFrom } from '../plan/inputs.js';
import { type PlannedStep, planSteps } from '../plan/steps.js';
import { SANDBOX_PATH } from '../sandbox/bwrap-args.js';
import type { StepRunner } from '../sandbox/index.js';
import { rootfsBuilderDigest } from '../sandbox/rootfs-digest.js';
import type { Store } from '../store/index.js';
import { builderIdentity } from './builder.js';
import { openStepCache } from './cache-setup.js';
import type { PreparedBuild } from './prepare.js';
import { previousIngredients } from './record.js';
import { lazyPreviousIngredients } from './run-step.js';
import { sourceView } from './source-view.js';

/** The builder steps run with (runner and the tools on their PATH), computed before anything else needs it. */
export type BuilderIdentity = Awaited<ReturnType<typeof builderIdentity>>;

/** The PATH steps see: in the sandbox the fixed one over the read-only toolchain; on the host, the caller's. */
function stepPath(runner: StepRunner, env: Readonly<Record<string, string | undefined>>): string {
  return runner.kind === 'bubblewrap' ? SANDBOX_PATH : (env.PATH ?? SANDBOX_PATH);
}

/** The builder identity of a build with `runner` (tool hashes come from the memo in the Kiln home when unchanged). */
export function identifyBuilder(
  runner: StepRunner,
  env: Readonly<Record<string, string | undefined>>,
  paths: KilnPaths,
): Promise<BuilderIdentity> {
  return builderIdentity(runner, stepPath(runner, env), paths.toolMemo);
}

/**
 * The runner steps use and the builder identity: the host toolchain (`hostIdentity`), or the builder rootfs that
 * kiln.yaml `sandbox.rootfs` names, hashed and checked against its `sandbox.digest` pin.
 */
export async function resolveBuilder(
  prepared: PreparedBuild,
  runner: StepRunner,
  hostIdentity: () => Promise<BuilderIdentity>,
  onNotice: (message: string) => void,
): Promise<{ runner: StepRunner; builder: BuilderIdentity }> {
  const sandbox = prepared.config.sandbox;
  if (!sandbox) return { runner, builder: await hostIdentity() };
  if (!runner.withRootfs) {
    throw new KilnError(
      'E_CONFIG_INVALID',
      `kiln.yaml sandbox.rootfs needs the bubblewrap runner, not ${runner.kind}`,
      {
        hint: 'build without --runner host, or remove sandbox from kiln.yaml to build with the host toolchain',
      },
    );
  }
  const dir = resolve(prepared.projectPath, sandbox.rootfs);
  const rootfs = await rootfsBuilderDigest(dir);
  if (sandbox.digest !== undefined && rootfs.digest !== sandbox.digest) {
    throw new KilnError(
      'E_SANDBOX',
      `builder rootfs ${dir} has digest ${rootfs.digest}, but kiln.yaml pins ${sandbox.digest}`,
      { hint: 'build with the rootfs the pin names, or update sandbox.digest in kiln.yaml if this rootfs is intended' },
    );
  }
  onNotice(
    `sandbox: builder rootfs ${dir} is ${rootfs.digest} (${rootfs.entries} entries, ${(rootfs.bytes / 1e6).toFixed(1)} MB)${sandbox.digest ? ', as pinned' : ''}`,
  );
  const digest = sha256Digest(canonicalJson({ runner: runner.kind, hermetic: runner.hermetic, rootfs: rootfs.digest }));
  const tool = { name: 'rootfs', path: dir, realpath: dir, sha256: digestHex(rootfs.digest) };
  return { runner: runner.withRootfs(dir), builder: { digest, tools: [tool] } };
}

/** Everything the executor needs besides the build id and the event sink, for `kiln build` and `kiln plan` alike. */
export async function setupSteps(
  prepared: PreparedBuild,
  opts: {
    workDir: string;
    paths: KilnPaths;
    env: Readonly<Record<string, string | undefined>>;
    runner: StepRunner;
    builder: BuilderIdentity;
    /** Both tiers read-write unless said otherwise. */
    cacheModes: CacheModes | undefined;
    store: Store;
    onWarning: (message: string) => void;
  },
) {
  const { source, config } = prepared;
  const view = await sourceView(
    source,
    join(opts.workDir, 'tree'),
    { PATH: opts.env.PATH },
    { blobMemo: opts.paths.blobMemo },
  );
  const baseEnv = {
    PATH: stepPath(opts.runner, opts.env),
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
  const { cache, local } = await openStepCache({
    paths: opts.paths,
    workDir: opts.workDir,
    modes: opts.cacheModes ?? parseCacheMode('local:rw,remote:rw'),
    remote: {
      url: config.cache.remote ?? opts.env.KILN_REMOTE_CACHE,
      authorization: opts.env.KILN_REMOTE_CACHE_AUTH,
    },
    signer: prepared.signing.signer,
    trustFiles: config.cache.trust,
    projectPath: prepared.projectPath,
    onWarning: opts.onWarning,
  });
  const previous = lazyPreviousIngredients(() =>
    previousIngredients(
      opts.store,
      config.name,
      steps.map((s) => s.name),
    ),
  );
  return { view, baseEnv, steps, cache, local, previous };
}
