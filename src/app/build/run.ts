// A build that runs: work dir, SBOM, scan while the steps run (cached or not), then the finishing stages and the
// record. Loaded only when an identical earlier build could not be handed back (see reuse.ts), so an up-to-date build
// does not load any of it.
import { join } from 'node:path';
import { restoreOutputs } from '../../cache/index.js';
import { casSbomMemo } from '../../cache/sbom-memo.js';
import { artifactFileName } from '../../config/index.js';
import { isKilnError, KilnError } from '../../core/errors.js';
import { executeSteps, isFlaky, type StepReport, type StepResult } from '../../execute/index.js';
import { environmentError } from '../../platform/disk.js';
import { processIdentity } from '../../platform/processes.js';
import { createWorkDir, removeWorkDir, sweepStaleWorkDirs, workRoot } from '../../platform/workdir.js';
import { type BuilderIdentity, builderToolchain } from '../../sandbox/identity.js';
import { assertLockfileUnchanged, makeSbom } from '../../sbom/make.js';
import {
  type BuildRecord,
  type BuildStatus,
  recordBuild,
  recordBuildEnd,
  recordBuildStart,
  type Store,
} from '../../store/index.js';
import { settleAbandonedBuilds } from '../builds.js';
import { artifactSbomGroups, type SbomGroup, type WorkspaceFiles, workspacePackages } from '../workspace-sbom.js';
import { finishBuild } from './finish.js';
import { newBuildId } from './id.js';
import type { PreparedBuild } from './prepare.js';
import { buildRecord, cacheFigures } from './record.js';
import { scanStage, withInstalledLicenses } from './scan.js';
import { setupSteps } from './setup.js';
import type { BuildResult, BuildWorld, StepSummary } from './types.js';

/** Everything decided before the build starts (see build.ts), handed over to run it. */
export interface SteppedBuild {
  readonly world: BuildWorld;
  readonly prepared: PreparedBuild;
  readonly store: Store;
  readonly builder: BuilderIdentity;
  readonly fingerprint: string | undefined;
  readonly startedAt: Date;
}

/** Runs the build; every outcome is recorded in the store. */
export async function runSteppedBuild(input: SteppedBuild): Promise<BuildResult> {
  const { world, prepared, store, fingerprint, startedAt } = input;
  const { ports, runner } = world;
  const { source, config } = prepared;
  const buildId = newBuildId(startedAt);
  const workDirs = await workRoot(ports.home, ports.env);
  const workDir = join(workDirs, buildId);
  const ran = { reports: [] as StepReport[], results: new Map<string, StepResult>(), network: new Set<string>() };
  const owner = processIdentity();
  const record = (
    outcome: Pick<BuildRecord['build'], 'status' | 'exit_code' | 'error'>,
    rest: Pick<BuildRecord, 'artifacts' | 'evidence'>,
    published?: { readonly publishMs: number; readonly findings: Readonly<Record<string, number>> | undefined },
  ) => {
    const rows = buildRecord({
      buildId,
      project: config.name,
      source,
      runner: runner.kind,
      startedAt,
      finishedAt: ports.now(),
      outcome,
      fingerprint: outcome.status === 'succeeded' ? (fingerprint ?? null) : null,
      owner,
      worker: world.worker,
      job: world.job,
      publishMs: published?.publishMs,
      findings: published?.findings,
      kilnVersion: ports.version,
      ...ran,
      ...rest,
    });
    return { rows, write: () => recordBuild(store, rows), durationMs: rows.build.duration_ms };
  };
  await settleAbandonedBuilds(ports, store);
  await recordBuildStart(store, {
    ...record({ status: 'running', exit_code: null, error: null }, { artifacts: [], evidence: [] }).rows.build,
    finished_at: startedAt.toISOString(),
    duration_ms: 0,
  }).catch((err: unknown) => {
    throw environmentError(err, ports.home.store) ?? err;
  });
  try {
    const swept = await sweepStaleWorkDirs(workDirs);
    if (swept > 0)
      ports.events({ kind: 'notice', message: `removed ${swept} work dir(s) left by builds that crashed` });
    await createWorkDir(workDir);
    const { commit, subdir, dirty } = source;
    ports.events({ kind: 'build-started', buildId, project: config.name, commit, subdir, dirty });
    const interrupted = () => abortIfRequested(world.signal, buildId);
    const stepped = await runSteps(input, { buildId, workDir, interrupted }, ran);
    const finished = await finishBuild(world, prepared, {
      buildId,
      workDir,
      startedAt,
      builder: input.builder,
      evidence: stepped.evidence,
      steps: stepped.steps,
      results: ran.results,
      outputsDir: stepped.outputsDir,
      interrupted,
    });
    world.checkpoint?.('before-record');
    ports.events({ kind: 'stage', stage: 'record', detail: ports.home.store });
    const done = record({ status: 'succeeded', exit_code: 0, error: null }, finished.rows, finished);
    await done.write().catch((err: unknown) => {
      throw environmentError(err, ports.home.store) ?? err;
    });
    ports.events({ kind: 'build-finished', buildId, status: 'succeeded', durationMs: done.durationMs });
    return {
      buildId,
      commit: source.commit,
      status: 'succeeded',
      upToDate: false,
      artifacts: finished.artifacts,
      cache: cacheFigures(ran.results),
      steps: ran.reports.map((r) => stepSummary(r, ran.results.get(r.name))),
      flakySteps: done.rows.build.flaky_steps ?? 0,
      publish: config.publish ?? null,
    };
  } catch (err) {
    const failed = firstFailure(ran.reports);
    const exitCode = isKilnError(err, 'KILN_STEP_FAILED') ? (failed?.exitCode ?? null) : null;
    // A blocked build keeps every violation in the record (`kiln show`); a failure its first line.
    const status: BuildStatus = isKilnError(err, 'KILN_POLICY_BLOCKED') ? 'blocked' : 'failed';
    const text = err instanceof Error ? err.message : String(err);
    const message = status === 'blocked' ? text : (text.split('\n')[0] ?? text);
    const done = record({ status, exit_code: exitCode, error: message }, { artifacts: [], evidence: [] });
    await done.write().catch(async () => {
      // The work dir may share the full disk with the store: without it, the attempt may still fit.
      await removeWorkDir(workDir);
      await done.write().catch(async (cause: unknown) => {
        // Not even that: the build's own row, written when it started, is marked ended in place, without its steps.
        const { build } = done.rows;
        const end = {
          status,
          exit_code: exitCode,
          error: message.slice(0, 500),
          finished_at: build.finished_at,
          duration_ms: build.duration_ms,
        };
        const marked = await recordBuildEnd(store, buildId, end).catch(() => false);
        const why = environmentError(cause, ports.home.store)?.message ?? String(cause);
        ports.events({
          kind: 'warning',
          message: marked
            ? `recorded the ${status} build ${buildId} without its steps: ${why}`
            : `could not record the ${status} build ${buildId} (it stays "running" until the next build marks it failed): ${why}`,
        });
      });
    });
    ports.events({ kind: 'build-finished', buildId, status, durationMs: done.durationMs });
    throw err;
  } finally {
    await removeWorkDir(workDir);
  }
}

/**
 * The SBOM of the committed lockfiles and its scan (while the steps run) for each group of artifacts, the steps
 * themselves, and their outputs restored where the artifacts are packaged from; the SBOMs and scans then carry the
 * installed packages' licenses.
 */
async function runSteps(
  input: SteppedBuild,
  build: { buildId: string; workDir: string; interrupted: () => void },
  /** Filled with the step reports and results as soon as the steps ran, so a failed build records them. */
  ran: { reports: StepReport[]; results: Map<string, StepResult>; network: Set<string> },
) {
  const { world, prepared, store, builder } = input;
  const { ports, runner } = world;
  const { source, config } = prepared;
  const { buildId, workDir, interrupted } = build;
  const { view, baseEnv, steps, cache, local, writable, previous } = await setupSteps(world, prepared, {
    workDir,
    runner,
    builder,
    store,
  });
  for (const step of steps) if (step.network) ran.network.add(step.name); // dependency steps, for the metrics
  // Each SBOM describes the lockfile as committed, read before any step could change it, for the workspace packages
  // its artifacts are built from.
  ports.events({ kind: 'stage', stage: 'sbom', detail: 'CycloneDX 1.6 and SPDX 2.3 from the lockfiles' });
  const warned = new Set<string>();
  const described = [];
  const groups = await sbomGroups(config, view, ports.events);
  for (const group of groups) {
    const sbom = await makeSbom({
      view,
      source,
      config,
      kilnVersion: ports.version,
      buildTools: builderToolchain(builder, runner.kind, ports.version),
      memo: casSbomMemo(local, writable), // local:r reads the SBOM memo too, and adds to the scratch CAS only
      workspace: group.workspace,
    });
    for (const message of sbom.warnings.filter((m) => !warned.has(m))) {
      warned.add(message); // the groups' SBOMs read the same lockfiles: say each warning once
      ports.events({ kind: 'warning', message });
    }
    // The scan needs only the SBOM and the store: it runs while the steps do.
    const titles = config.artifacts.filter((a) => group.artifacts.includes(a.name)).map(artifactFileName);
    const about = groups.length > 1 ? ` of ${titles.join(', ')}` : ''; // as the sign and gate stages name them
    const scanning = scanStage(store, sbom, config.policy, view, ports.events, about);
    scanning.catch(() => {}); // awaited below; a failed step must not leave it unhandled
    described.push({ artifacts: group.artifacts, sbom, scanning });
  }
  interrupted();
  const executed = await executeSteps({
    steps,
    parallelism: ports.parallelism,
    signal: world.signal,
    context: {
      source: view,
      stepsDir: join(workDir, 'steps'),
      logDir: join(ports.home.buildDir(buildId), 'logs'),
      baseEnv,
      runner,
      limits: config.limits,
      cache,
      builder: builder.digest,
      buildId,
      previous,
      emit: ports.events,
      now: ports.now,
      verifyOutputsOf: new Set(config.artifacts.map((a) => a.from)),
    },
  });
  ran.reports = executed.reports;
  ran.results = executed.results;
  interrupted();
  const failed = firstFailure(ran.reports);
  if (failed) throw stepFailure(buildId, failed, ran.results.get(failed.name)?.failure);
  for (const { sbom } of described) await assertLockfileUnchanged(view, sbom.lockfiles);
  const outputsDir = join(workDir, 'outputs');
  for (const from of new Set(config.artifacts.map((a) => a.from))) {
    const tree = ran.results.get(from)?.tree;
    if (tree) await restoreOutputs(tree, join(outputsDir, from), cache.blobs);
  }
  // From here on (signing, the gate, delivery) the SBOMs have the licenses the installed packages declare.
  const evidence = [];
  for (const { artifacts, sbom, scanning } of described) {
    const licensed = await withInstalledLicenses(sbom, await scanning, ran.results, cache.blobs, ports.events);
    evidence.push({ artifacts, ...licensed });
  }
  return { steps, evidence, outputsDir };
}

/**
 * The artifacts grouped by the workspace packages their SBOM describes (see artifactSbomGroups). A workspace that
 * cannot be read (only perPackage steps need it, and planning already refused it for them) leaves one SBOM, of the
 * lockfiles' own layout, with a warning.
 */
async function sbomGroups(
  config: PreparedBuild['config'],
  files: WorkspaceFiles & { readonly projectDir: string },
  events: BuildWorld['ports']['events'],
): Promise<SbomGroup[]> {
  try {
    return artifactSbomGroups(config, await workspacePackages(files.projectDir, files));
  } catch (err) {
    if (!isKilnError(err)) throw err;
    events({ kind: 'warning', message: `the SBOM describes the project as its lockfiles lay it out: ${err.message}` });
    return artifactSbomGroups(config, []);
  }
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
    attempts: report.attempts,
    flaky: isFlaky(report),
  };
}

function abortIfRequested(signal: AbortSignal | undefined, buildId: string): void {
  if (signal?.aborted) {
    throw new KilnError('KILN_INTERRUPTED', `build ${buildId} was interrupted; its running steps were stopped`, {
      hint: `the attempt is recorded as failed: kiln show ${buildId}`,
    });
  }
}

/** The failure to report: one with an exit code of its own before those stopped because of it (exit code none). */
function firstFailure(reports: readonly StepReport[]): StepReport | undefined {
  const failed = reports.filter((r) => r.status === 'failed');
  return failed.find((r) => r.exitCode !== null) ?? failed[0];
}

/** The step's own failure; or, when Kiln failed it (its outputs could not be stored, …), Kiln's error, with its code. */
function stepFailure(buildId: string, failed: StepReport, kilnFailure?: KilnError): KilnError {
  const tail = failed.logTail.map((l) => `  | ${l}`).join('\n');
  if (kilnFailure) {
    const ran = failed.exitCode === null ? 'did not run:' : `ran (its command exited ${failed.exitCode}), but`;
    return new KilnError(kilnFailure.code, `step ${failed.name} ${ran} ${kilnFailure.message}`, {
      hint: `${kilnFailure.hint ?? ''} (log: ${failed.logPath})`.trim(),
      cause: kilnFailure,
      details: { buildId, step: failed.name, exitCode: failed.exitCode },
    });
  }
  if (failed.limitHit) {
    const { limit, text } = failed.limitHit;
    return new KilnError('KILN_STEP_LIMIT', `step ${failed.name} hit its ${text}; last lines of its log:\n${tail}`, {
      hint: `raise limits.${limit} in kiln.yaml if the step really needs more; full log: ${failed.logPath}`,
      details: { buildId, step: failed.name, limit },
    });
  }
  const code = failed.exitCode ?? 'none (killed)';
  return new KilnError(
    'KILN_STEP_FAILED',
    `step ${failed.name} failed with exit code ${code}; last lines of its log:\n${tail}`,
    {
      hint: `full log: ${failed.logPath}; details: kiln show ${buildId}`,
      details: { buildId, step: failed.name, exitCode: failed.exitCode },
    },
  );
}
