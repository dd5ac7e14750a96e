// A build that runs: work dir, steps (cached or not), package, sign, publish, deliver, record. Loaded only when an
// identical earlier build could not be handed back (see reuse.ts), so an up-to-date build does not load any of it.
import { join } from 'node:path';
import { type BlobStore, restoreOutputs, treeDigest } from '../../cache/index.js';
import type { PolicyConfig } from '../../config/index.js';
import { type Digest, digestHex, sha256Digest } from '../../core/digest.js';
import { isKilnError, KilnError } from '../../core/errors.js';
import type { EventSink } from '../../core/events.js';
import type { KilnPaths } from '../../core/home.js';
import { executeSteps, type StepReport } from '../../execute/dag.js';
import type { StepResult } from '../../execute/run-step.js';
import type { SourceView } from '../../plan/source-view.js';
import { createWorkDir, removeWorkDir, sweepStaleWorkDirs, workRoot } from '../../platform/workdir.js';
import type { BuilderIdentity } from '../../sandbox/identity.js';
import type { StepRunner } from '../../sandbox/index.js';
import { installedLicenses } from '../../sbom/installed-licenses.js';
import { assertLockfileUnchanged, type BuildSbom, casSbomMemo, type LockfileSbom, makeSbom } from '../../sbom/make.js';
import { bomGraph } from '../../scan/bom-components.js';
import { type BuildScan, readVexDocuments, scanBom } from '../../scan/database.js';
import { type BuildRecord, recordBuild, type Store } from '../../store/index.js';
import {
  type BuildEnvironment,
  type BuildRequest,
  type BuildResult,
  closeQuietly,
  newBuildId,
  type StepSummary,
} from './build.js';
import { deliver } from './deliver.js';
import type { PreparedBuild } from './prepare.js';
import { buildRecord, cacheFigures } from './record.js';
import { setupSteps } from './setup.js';

/** Everything decided before the build starts (see runBuild), handed over to run it. */
export interface SteppedBuild {
  readonly req: BuildRequest;
  readonly world: BuildEnvironment;
  readonly paths: KilnPaths;
  readonly prepared: PreparedBuild;
  readonly store: Store;
  readonly runner: StepRunner;
  readonly builder: BuilderIdentity;
  readonly fingerprint: string | undefined;
  readonly startedAt: Date;
}

/** Runs the build; every outcome is recorded in the store, which it closes. */
export async function runSteppedBuild(input: SteppedBuild): Promise<BuildResult> {
  const { req, world, paths, prepared, store, runner, builder, fingerprint, startedAt } = input;
  const { projectPath, source, config, configText, signing } = prepared;
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
    const { view, baseEnv, steps, cache, local, writable, previous } = await setupSteps(prepared, {
      workDir,
      paths,
      world,
      runner,
      builder,
      cacheModes: req.cacheModes,
      store,
    });
    // The SBOM describes the lockfile as committed, read before any step could change it.
    world.emit({ kind: 'stage', stage: 'sbom', detail: 'CycloneDX 1.6 and SPDX 2.3 from the lockfiles' });
    // What built the artifact, for both SBOMs (build-time components) and provenance (resolvedDependencies).
    const toolchain = [
      { name: `kiln-builder-${runner.kind}`, version: world.kilnVersion, sha256: digestHex(builder.digest) },
      ...builder.tools.map((t) => ({ name: t.name, sha256: t.sha256, ...(t.version ? { version: t.version } : {}) })),
    ];
    const sbom = await makeSbom({
      view,
      source,
      config,
      kilnVersion: world.kilnVersion,
      buildTools: toolchain,
      memo: casSbomMemo(local, writable), // local:r reads the SBOM memo too, and adds to the scratch CAS only
    });
    for (const message of sbom.warnings) world.emit({ kind: 'warning', message });
    // The scan needs only the SBOM and the store: it runs while the steps do.
    const scanning = scanStage(store, sbom, config.policy, view, world);
    scanning.catch(() => {}); // awaited below; a failed step must not leave it unhandled
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
    await assertLockfileUnchanged(view, sbom.lockfiles);
    const outputsDir = join(workDir, 'outputs');
    for (const from of new Set(config.artifacts.map((a) => a.from))) {
      const tree = results.get(from)?.tree;
      if (tree) await restoreOutputs(tree, join(outputsDir, from), cache.blobs);
    }
    // From here on (signing, the gate, delivery) the SBOM has the licenses the installed packages declare.
    const { sbom: built, scan } = await withInstalledLicenses(sbom, await scanning, results, cache.blobs, world.emit);
    const delivered = await deliver({
      buildId,
      config,
      kilnVersion: world.kilnVersion,
      scan,
      configDigest: sha256Digest(configText),
      source,
      sbom: built,
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
      toolchain: toolchain.map((t) => ({
        name: t.name,
        version: t.version ?? 'unknown',
        digest: `sha256:${t.sha256}` as Digest,
      })),
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
      publish: config.publish ?? null,
    };
  } catch (err) {
    const failed = firstFailure(reports);
    const exitCode = isKilnError(err, 'E_STEP_FAILED') ? (failed?.exitCode ?? null) : null;
    // A blocked build keeps every violation in the record (`kiln show`); a failure its first line.
    const status = isKilnError(err, 'E_POLICY_BLOCKED') ? 'blocked' : 'failed';
    const text = err instanceof Error ? err.message : String(err);
    const message = status === 'blocked' ? text : (text.split('\n')[0] ?? text);
    const done = record({ status, exit_code: exitCode, error: message }, { artifacts: [], evidence: [] });
    await done.write().catch((cause: unknown) => {
      world.emit({ kind: 'warning', message: `could not record the ${status} build ${buildId}: ${String(cause)}` });
    });
    world.emit({ kind: 'build-finished', buildId, status, durationMs: done.durationMs });
    throw err;
  } finally {
    await removeWorkDir(workDir);
    await closeQuietly(store);
  }
}

/** Scans the SBOM against the store's vulnerability data and reads the policy's VEX documents. */
async function scanStage(
  store: Store,
  sbom: BuildSbom,
  policy: PolicyConfig,
  view: SourceView,
  world: BuildEnvironment,
): Promise<BuildScan> {
  const [found, vex] = await Promise.all([
    scanBom(store, sbom.bom, 'the build SBOM'),
    readVexDocuments(policy, (path) => view.readFile(join(view.projectDir, path))),
  ]);
  const { findings } = found.result;
  const data = found.database.records;
  world.emit({
    kind: 'stage',
    stage: 'scan',
    detail:
      data === 0
        ? 'no vulnerability data imported (kiln db import <OSV dir or zip>): nothing to match against'
        : `${found.result.checked} components against ${data} OSV records: ${findings.length} finding(s)`,
  });
  for (const note of found.result.notes) world.emit({ kind: 'warning', message: `scan: ${note}` });
  return { ...found, vex };
}

/**
 * The SBOM and scan with the licenses the lockfiles lack (pnpm-lock.yaml and yarn.lock record none) taken from the
 * package.json files the steps installed; unchanged, at the cost of a pass over the output trees at most, when no npm
 * component lacks one or no step's outputs hold an installed package.
 */
async function withInstalledLicenses(
  sbom: LockfileSbom,
  scan: BuildScan,
  results: ReadonlyMap<string, StepResult>,
  blobs: BlobStore,
  emit: EventSink,
): Promise<{ sbom: BuildSbom; scan: BuildScan }> {
  const steps = [...results].flatMap(([step, r]) => (r.tree ? [{ step, tree: r.tree }] : []));
  const found = await installedLicenses({ components: scan.graph.components, steps, blobs });
  for (const message of found.warnings) emit({ kind: 'warning', message });
  if (found.licenses.size === 0) return { sbom, scan };
  const licensed = await sbom.withLicenses(found.licenses);
  emit({
    kind: 'stage',
    stage: 'sbom',
    detail: `licenses of ${found.licenses.size} npm package(s) from the package.json files the steps installed`,
  });
  // The gate judges licenses by the scan's components: the same SBOM that is signed and delivered.
  return { sbom: licensed, scan: { ...scan, graph: bomGraph(licensed.bom, 'the build SBOM') } };
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
