// The build stage end to end: source → SBOM → steps → package → attest → publish → deliver → record.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type BuildCacheFigures, NO_CACHE_FIGURES, restoreOutputs, treeDigest } from '../cache/index.js';
import type { CacheModes } from '../cache/remote-mode.js';
import type { KilnConfig } from '../config/index.js';
import { type Digest, sha256Digest } from '../core/digest.js';
import { isKilnError, KilnError } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import { type KilnPaths, kilnPaths } from '../core/home.js';
import type { StepRunner } from '../sandbox/index.js';
import { type BuildRecord, findBuildByFingerprint, openSqliteStore, recordBuild, type Store } from '../store/index.js';
import { type DeliveredArtifact, deliver } from './deliver.js';
import { executeSteps, type StepReport } from './execute.js';
import { prepareBuild } from './prepare.js';
import { buildRecord, cacheFigures } from './record.js';
import { buildFingerprint, redeliver } from './reuse.js';
import type { StepResult } from './run-step.js';
import { assertLockfileUnchanged, casSbomMemo, makeSbom } from './sbom.js';
import { type BuilderIdentity, identifyBuilder, resolveBuilder, setupSteps } from './step-setup.js';
import { createWorkDir, removeWorkDir, sweepStaleWorkDirs, workRoot } from './workdir.js';

/** What a user asks for when building. */
export interface BuildRequest {
  readonly projectPath: string;
  readonly rev?: string | undefined;
  readonly allowDirty: boolean;
  readonly keyFlag?: string | undefined;
  /** Which cache tiers to read and write (`--cache local:rw,remote:r`); both read-write by default. */
  readonly cacheModes?: CacheModes | undefined;
  /** Build even when an identical build already succeeded (see reuse.ts). */
  readonly force?: boolean | undefined;
}

/** The world a build runs in, passed in by the CLI (or a worker later). */
export interface BuildEnvironment {
  readonly kilnHome: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly runner: StepRunner;
  readonly parallelism: number;
  readonly kilnVersion: string;
  readonly now: () => Date;
  readonly emit: EventSink;
  /** Aborted on Ctrl-C/SIGTERM: running steps are stopped and the build is recorded as failed. */
  readonly signal?: AbortSignal | undefined;
  /** Test seam: called between stages; a crash test kills the process at a named point. */
  readonly checkpoint?: (name: 'before-deliver' | 'before-record') => void;
}

/** What `kiln build --json` prints. */
export interface BuildResult {
  readonly buildId: string;
  readonly commit: string;
  readonly status: 'succeeded';
  /** True when an identical earlier build (`buildId`) was handed back instead of building again. */
  readonly upToDate: boolean;
  readonly artifacts: readonly DeliveredArtifact[];
  readonly cache: BuildCacheFigures;
  readonly steps: readonly StepSummary[];
}

/** One step as `--json` and `--explain` show it. */
export interface StepSummary {
  readonly name: string;
  readonly status: StepReport['status'];
  readonly durationMs: number;
  readonly key: string | null;
  readonly cache: 'hit' | 'miss';
  readonly producedBy: string | null;
  readonly explanation: readonly string[];
}

function stepSummary(report: StepReport, result: StepResult | undefined): StepSummary {
  return {
    name: report.name,
    status: report.status,
    durationMs: report.durationMs,
    key: result?.key ?? null,
    cache: report.status === 'cached' ? 'hit' : 'miss',
    producedBy: result?.producedBy ?? null,
    explanation: result?.explanation.map((r) => r.detail) ?? [],
  };
}

/** Runs one build; throws KilnError on failure. Once started, every outcome is recorded in the store. */
export async function runBuild(req: BuildRequest, world: BuildEnvironment): Promise<BuildResult> {
  const startedAt = world.now();
  const paths = kilnPaths(world.kilnHome);
  const gitEnv = { PATH: world.env.PATH };
  // The builder identity (tool hashes: ~0.2 s for node's binary on a fresh home) is computed while git works.
  const identifying = identifyBuilder(world.runner, world.env, paths);
  identifying.catch(() => undefined); // awaited below; a failure of prepare must not leave it unhandled
  const prepared = await prepareBuild(req, world, paths, gitEnv);
  const { projectPath, source, config, configText, signing } = prepared;
  if (signing.created) {
    world.emit({
      kind: 'notice',
      message: `created a local signing key ${paths.defaultKey} (public key ${paths.defaultPub}); keep the .key private and share the .pub with verifiers`,
    });
  }
  const store = await openSqliteStore(paths.store); // before any work: an unusable store fails fast
  let runner: StepRunner;
  let builder: BuilderIdentity;
  let fingerprint: string | undefined;
  try {
    ({ runner, builder } = await resolveBuilder(
      prepared,
      world.runner,
      () => identifying,
      (message) => world.emit({ kind: 'notice', message }),
    ));
    fingerprint = buildFingerprint({
      kilnVersion: world.kilnVersion,
      source,
      configText,
      builder: builder.digest,
      publicKeyPem: signing.signer.publicKeyPem,
    });
    if (fingerprint && !req.force) {
      const reused = await reuseEarlier(store, fingerprint, { config, projectPath, paths, emit: world.emit });
      if (reused) return reused;
    }
    await world.runner.ready?.();
  } catch (err) {
    await closeQuietly(store); // nothing started: there is no build to record
    throw err;
  }
  const buildId = newBuildId(startedAt);
  const workDirs = await workRoot(paths, world.env);
  const workDir = join(workDirs, buildId);
  let reports: StepReport[] = [];
  let results = new Map<string, StepResult>();
  const record = (
    outcome: Pick<BuildRecord['build'], 'status' | 'exit_code' | 'error'>,
    rest: Pick<BuildRecord, 'artifacts' | 'evidence'>,
  ) => {
    const rows = buildRecord({
      buildId,
      project: config.name,
      source,
      runner: runner.kind,
      startedAt,
      finishedAt: world.now(),
      outcome,
      fingerprint: outcome.status === 'succeeded' ? (fingerprint ?? null) : null,
      reports,
      results,
      ...rest,
    });
    return {
      write: () => recordBuild(store, rows),
      durationMs: rows.build.duration_ms,
      figures: cacheFigures(results),
    };
  };
  try {
    const swept = await sweepStaleWorkDirs(workDirs);
    if (swept > 0) world.emit({ kind: 'notice', message: `removed ${swept} work dir(s) left by builds that crashed` });
    await createWorkDir(workDir);
    world.emit({
      kind: 'build-started',
      buildId,
      project: config.name,
      commit: source.commit,
      subdir: source.subdir,
      dirty: source.dirty,
    });
    const interrupted = () => abortIfRequested(world.signal, buildId);
    const { view, baseEnv, steps, cache, local, previous } = await setupSteps(prepared, {
      workDir,
      paths,
      env: world.env,
      runner,
      builder,
      cacheModes: req.cacheModes,
      store,
      onWarning: (message) => world.emit({ kind: 'warning', message }),
    });
    // The SBOM describes the lockfile as committed, read before any step could change it.
    world.emit({ kind: 'stage', stage: 'sbom', detail: 'CycloneDX 1.6 from package-lock.json' });
    const sbom = await makeSbom({
      view,
      source,
      config,
      kilnVersion: world.kilnVersion,
      memo: casSbomMemo(local),
    });
    if (!sbom.lockfile) {
      world.emit({
        kind: 'warning',
        message: `no package-lock.json in ${source.subdir || 'the project'}: the SBOM lists no dependencies`,
      });
    }
    interrupted();
    const executed = await executeSteps({
      steps,
      parallelism: world.parallelism,
      signal: world.signal,
      context: {
        source: view,
        stepsDir: join(workDir, 'steps'),
        logDir: join(paths.buildDir(buildId), 'logs'),
        baseEnv,
        runner,
        cache,
        builder: builder.digest,
        buildId,
        previous,
        emit: world.emit,
        now: world.now,
        verifyOutputsOf: new Set(config.artifacts.map((a) => a.from)),
      },
    });
    reports = executed.reports;
    results = executed.results;
    interrupted();
    const failed = firstFailure(reports);
    if (failed) throw stepFailure(buildId, failed);
    await assertLockfileUnchanged(view, sbom.lockfile);
    const outputsDir = join(workDir, 'outputs');
    for (const from of new Set(config.artifacts.map((a) => a.from))) {
      const tree = results.get(from)?.tree;
      if (tree) await restoreOutputs(tree, join(outputsDir, from), cache.blobs);
    }
    const delivered = await deliver({
      buildId,
      config,
      configDigest: sha256Digest(configText),
      source,
      sbom,
      stepOutputs: (step) => join(outputsDir, step),
      steps: steps.map((st) => {
        const r = results.get(st.name);
        return {
          name: st.name,
          run: st.run,
          network: st.network,
          ...(r?.tree ? { outputs: treeDigest(r.tree) } : {}),
          ...(r?.producedBy && r.report.status === 'cached' ? { cachedFrom: r.producedBy } : {}),
        };
      }),
      outputDir: join(projectPath, config.output),
      workDir,
      paths,
      signer: signing.signer,
      toolchain: [
        { name: `kiln-builder-${runner.kind}`, version: world.kilnVersion, digest: builder.digest },
        ...builder.tools.map((t) => ({ name: t.name, version: t.version ?? 'unknown', digest: toDigest(t.sha256) })),
      ],
      runner,
      startedAt,
      now: world.now,
      emit: world.emit,
      interrupted,
      checkpoint: world.checkpoint,
    });
    world.checkpoint?.('before-record');
    world.emit({ kind: 'stage', stage: 'record', detail: paths.store });
    const done = record({ status: 'succeeded', exit_code: 0, error: null }, delivered.rows);
    await done.write();
    world.emit({ kind: 'build-finished', buildId, status: 'succeeded', durationMs: done.durationMs });
    return {
      buildId,
      commit: source.commit,
      status: 'succeeded',
      upToDate: false,
      artifacts: delivered.artifacts,
      cache: done.figures,
      steps: reports.map((r) => stepSummary(r, results.get(r.name))),
    };
  } catch (err) {
    const failed = firstFailure(reports);
    const exitCode = isKilnError(err, 'E_STEP_FAILED') ? (failed?.exitCode ?? null) : null;
    const message = err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
    const done = record({ status: 'failed', exit_code: exitCode, error: message }, { artifacts: [], evidence: [] });
    await done.write().catch((cause: unknown) => {
      world.emit({ kind: 'warning', message: `could not record the failed build ${buildId}: ${String(cause)}` });
    });
    world.emit({ kind: 'build-finished', buildId, status: 'failed', durationMs: done.durationMs });
    throw err;
  } finally {
    await removeWorkDir(workDir);
    await closeQuietly(store);
  }
}

/** The result of an identical earlier build, its files checked (or restored) in the output dir; else undefined. */
async function reuseEarlier(
  store: Store,
  fingerprint: string,
  opts: { config: KilnConfig; projectPath: string; paths: KilnPaths; emit: EventSink },
): Promise<BuildResult | undefined> {
  const earlier = await findBuildByFingerprint(store, opts.config.name, fingerprint);
  if (!earlier) return undefined;
  const outputDir = join(opts.projectPath, opts.config.output);
  const artifacts = await redeliver(earlier, outputDir, opts.paths.oci);
  if (!artifacts) return undefined;
  const { build } = earlier;
  opts.emit({ kind: 'build-reused', buildId: build.id, commit: build.commit_sha, outputDir });
  await closeQuietly(store);
  return {
    buildId: build.id,
    commit: build.commit_sha,
    status: 'succeeded',
    upToDate: true,
    artifacts,
    cache: NO_CACHE_FIGURES,
    steps: [],
  };
}

function abortIfRequested(signal: AbortSignal | undefined, buildId: string): void {
  if (signal?.aborted) {
    throw new KilnError('E_INTERRUPTED', `build ${buildId} was interrupted; its running steps were stopped`, {
      hint: `the attempt is recorded as failed: kiln show ${buildId}`,
    });
  }
}

/** The failure to report: one with an exit code of its own before those stopped because of it (exit code none). */
function firstFailure(reports: readonly StepReport[]): StepReport | undefined {
  const failed = reports.filter((r) => r.status === 'failed');
  return failed.find((r) => r.exitCode !== null) ?? failed[0];
}

function stepFailure(buildId: string, failed: StepReport): KilnError {
  const tail = failed.logTail.map((l) => `  | ${l}`).join('\n');
  const code = failed.exitCode ?? 'none (killed)';
  return new KilnError(
    'E_STEP_FAILED',
    `step ${failed.name} failed with exit code ${code}; last lines of its log:\n${tail}`,
    {
      hint: `full log: ${failed.logPath}; details: kiln show ${buildId}`,
      details: { buildId, step: failed.name, exitCode: failed.exitCode },
    },
  );
}

async function closeQuietly(store: Store): Promise<void> {
  await store.close().catch(() => undefined);
}

function toDigest(hex: string): Digest {
  return `sha256:${hex}`;
}

/** Sortable, unique build ids: UTC time then randomness (`20261126T011234Z-3f9a1c`). */
export function newBuildId(at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}
