// The build stage end to end: source → steps → package → SBOM → attest → publish → deliver → record.
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { LOCAL_BUILDER_ID } from '../attest/index.js';
import { loadConfigFile, topoOrder } from '../config/index.js';
import { sha256Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import { kilnPaths } from '../core/home.js';
import type { StepRunner } from '../sandbox/index.js';
import { materialize, resolveSource } from '../source/index.js';
import { openSqliteStore, recordBuild } from '../store/index.js';
import { type DeliveredArtifact, deliver } from './deliver.js';
import { executeSteps, type StepReport } from './execute.js';
import { resolveSigner } from './signing-key.js';
import { hostToolchain } from './toolchain.js';
import { createWorkDir, sweepStaleWorkDirs } from './workdir.js';

/** What a user asks for when building. */
export interface BuildRequest {
  readonly projectPath: string;
  readonly rev?: string | undefined;
  readonly allowDirty: boolean;
  readonly keyFlag?: string | undefined;
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
  readonly artifacts: readonly DeliveredArtifact[];
}

/** Runs one build; throws KilnError on failure (a failed build is still recorded). */
export async function runBuild(req: BuildRequest, world: BuildEnvironment): Promise<BuildResult> {
  const startedAt = world.now();
  const paths = kilnPaths(world.kilnHome);
  const projectPath = resolve(world.cwd, req.projectPath);
  const userConfig = (await loadConfigFile(join(projectPath, 'kiln.yaml'))).config;
  const gitEnv = { PATH: world.env.PATH, HOME: world.env.HOME };
  const source = await resolveSource({
    projectPath,
    rev: req.rev,
    allowDirty: req.allowDirty,
    ignore: [userConfig.output],
    env: gitEnv,
  });
  const signing = await resolveSigner({
    keyFlag: req.keyFlag,
    keyEnv: world.env.KILN_SIGNING_KEY,
    configKey: userConfig.signing?.key,
    projectPath,
    cwd: world.cwd,
    paths,
  });
  if (signing.created) {
    world.emit({
      kind: 'notice',
      message: `created a local signing key ${paths.defaultKey} (public key ${paths.defaultPub}); keep the .key private and share the .pub with verifiers`,
    });
  }
  const buildId = newBuildId(startedAt);
  world.emit({
    kind: 'build-started',
    buildId,
    project: userConfig.name,
    commit: source.commit,
    subdir: source.subdir,
    dirty: source.dirty,
  });
  const workDir = paths.workDir(buildId);
  const treeDir = join(workDir, 'tree');
  const projectDir = join(treeDir, source.subdir);
  const swept = await sweepStaleWorkDirs(paths.work);
  if (swept > 0) world.emit({ kind: 'notice', message: `removed ${swept} work dir(s) left by builds that crashed` });
  await createWorkDir(workDir);
  try {
    await materialize(source, treeDir, gitEnv);
    const configFile = join(projectDir, 'kiln.yaml');
    const loaded = await loadConfigFile(configFile).catch((err: unknown) => {
      throw new KilnError('E_CONFIG_NOT_FOUND', `kiln.yaml is not part of commit ${source.commit.slice(0, 12)}`, {
        cause: err,
        hint: 'commit kiln.yaml (a build only uses what the commit contains)',
      });
    });
    const config = loaded.config;
    const stepEnv = {
      PATH: world.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: join(paths.home, 'step-home'),
      LANG: 'C.UTF-8',
      TZ: 'UTC',
      SOURCE_DATE_EPOCH: String(source.sourceDateEpoch),
    };
    await fsp.mkdir(stepEnv.HOME, { recursive: true });
    const steps = topoOrder(config).map((name) => ({
      name,
      ...(config.steps[name] as NonNullable<(typeof config.steps)[string]>),
    }));
    const [toolchain, reports] = await Promise.all([
      hostToolchain(stepEnv),
      executeSteps({
        steps,
        cwd: projectDir,
        logDir: join(paths.buildDir(buildId), 'logs'),
        baseEnv: stepEnv,
        runner: world.runner,
        parallelism: world.parallelism,
        emit: world.emit,
        signal: world.signal,
      }),
    ]);
    const base = {
      id: buildId,
      project: config.name,
      repo_url: source.repoUrl,
      commit_sha: source.commit,
      subdir: source.subdir,
      dirty: source.dirty ? 1 : 0,
      builder_id: LOCAL_BUILDER_ID,
      runner: world.runner.kind,
      started_at: startedAt.toISOString(),
    };
    const stepRows = reports.map((r, position) => ({
      build_id: buildId,
      name: r.name,
      status: r.status,
      exit_code: r.exitCode,
      duration_ms: r.durationMs,
      log_path: r.logPath,
      position,
    }));
    const failed = reports.find((r) => r.status === 'failed');
    const store = await openSqliteStore(paths.store);
    try {
      if (failed || world.signal?.aborted) {
        const finished = world.now();
        const error = world.signal?.aborted
          ? 'interrupted'
          : `step ${failed?.name} failed with exit code ${failed?.exitCode ?? 'none (killed)'}`;
        const durationMs = finished.getTime() - startedAt.getTime();
        await recordBuild(store, {
          build: {
            ...base,
            status: 'failed',
            exit_code: failed?.exitCode ?? null,
            error,
            finished_at: finished.toISOString(),
            duration_ms: durationMs,
          },
          steps: stepRows,
          artifacts: [],
          evidence: [],
        });
        world.emit({ kind: 'build-finished', buildId, status: 'failed', durationMs });
        throw failureError(buildId, error, failed, world.signal?.aborted === true);
      }
      const delivered = await deliver({
        buildId,
        config,
        configDigest: sha256Digest(loaded.text),
        source,
        projectDir,
        outputDir: join(projectPath, config.output),
        workDir,
        paths,
        signer: signing.signer,
        toolchain,
        runner: world.runner,
        startedAt,
        now: world.now,
        kilnVersion: world.kilnVersion,
        emit: world.emit,
        checkpoint: world.checkpoint,
      });
      world.checkpoint?.('before-record');
      world.emit({ kind: 'stage', stage: 'record', detail: paths.store });
      const finished = world.now();
      await recordBuild(store, {
        build: {
          ...base,
          status: 'succeeded',
          exit_code: 0,
          error: null,
          finished_at: finished.toISOString(),
          duration_ms: finished.getTime() - startedAt.getTime(),
        },
        steps: stepRows,
        artifacts: delivered.rows.artifacts,
        evidence: delivered.rows.evidence,
      });
      world.emit({
        kind: 'build-finished',
        buildId,
        status: 'succeeded',
        durationMs: finished.getTime() - startedAt.getTime(),
      });
      return { buildId, commit: source.commit, status: 'succeeded', artifacts: delivered.artifacts };
    } finally {
      await store.close();
    }
  } finally {
    await fsp.rm(workDir, { recursive: true, force: true });
  }
}

function failureError(buildId: string, error: string, failed: StepReport | undefined, interrupted: boolean): KilnError {
  if (interrupted || !failed) {
    return new KilnError('E_INTERRUPTED', `build ${buildId} was interrupted; its running steps were stopped`, {
      hint: `the attempt is recorded as failed: kiln show ${buildId}`,
    });
  }
  const tail = failed.logTail.map((l) => `  | ${l}`).join('\n');
  return new KilnError('E_STEP_FAILED', `${error}; last lines of its log:\n${tail}`, {
    hint: `full log: ${failed.logPath}; details: kiln show ${buildId}`,
    details: { buildId, step: failed.name, exitCode: failed.exitCode },
  });
}

/** Sortable, unique build ids: UTC time then randomness (`20261126T011234Z-3f9a1c`). */
export function newBuildId(at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}
