// The build stage end to end: source → SBOM → steps → package → attest → publish → deliver → record. This part
// resolves what is built and hands back an identical earlier build; build-run.ts runs a new one.
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CacheModes } from '../../cache/modes.js';
import { type BuildCacheFigures, NO_CACHE_FIGURES } from '../../cache/stats.js';
import type { KilnConfig, PublishConfig } from '../../config/index.js';
import type { EventSink } from '../../core/events.js';
import { type KilnPaths, kilnPaths } from '../../core/home.js';
import type { StepReport } from '../../execute/dag.js';
import { type BuilderIdentity, identifyBuilder, resolveBuilder } from '../../sandbox/identity.js';
import type { StepRunner } from '../../sandbox/index.js';
import { findBuildByFingerprint, openSqliteStore, osvDataState, type Store } from '../../store/index.js';
import type { DeliveredArtifact } from './deliver.js';
import { prepareBuild } from './prepare.js';
import { buildFingerprint, redeliver } from './reuse.js';

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
  /** kiln.yaml's `publish:` section, for the CLI to publish the build to a registry; null without one. */
  readonly publish: PublishConfig | null;
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
  const store = await openSqliteStore(paths.store); // before any work: an unusable store fails fast
  let runner: StepRunner;
  let builder: BuilderIdentity;
  let fingerprint: string | undefined;
  let running: typeof import('./run.js');
  try {
    ({ runner, builder } = await resolveBuilder(
      prepared,
      world.runner,
      (extra) => (extra.length ? identifyBuilder(world.runner, world.env, paths, extra) : identifying),
      (message) => world.emit({ kind: 'notice', message }),
      paths.home,
    ));
    const today = world.now().toISOString().slice(0, 10);
    fingerprint = buildFingerprint({
      kilnVersion: world.kilnVersion,
      source,
      configText,
      builder: builder.digest,
      publicKeyPem: signing.signer.publicKeyPem,
      // The policy's verdict changes with new vulnerability data and when an exception expires.
      verdictInputs: {
        vulnerabilityData: (await osvDataState(store)).revision,
        liveExceptions: config.policy.exceptions.flatMap((e, i) => (e.expires >= today ? [i] : [])),
      },
      trustedKeys: await Promise.all(
        config.cache.trust.map((file) =>
          fsp.readFile(resolve(projectPath, file), 'utf8').catch(() => `missing ${file}`),
        ),
      ),
    });
    if (fingerprint && !req.force) {
      const reused = await reuseEarlier(store, fingerprint, { config, projectPath, paths, emit: world.emit });
      if (reused) return reused;
    }
    await world.runner.ready?.();
    running = await import('./run.js'); // not loaded for an up-to-date build
  } catch (err) {
    await closeQuietly(store); // nothing started: there is no build to record
    throw err;
  }
  return running.runSteppedBuild({ req, world, paths, prepared, store, runner, builder, fingerprint, startedAt });
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
    publish: opts.config.publish ?? null,
  };
}

export async function closeQuietly(store: Store): Promise<void> {
  await store.close().catch(() => undefined);
}

/** Sortable, unique build ids: UTC time then randomness (`20261126T011234Z-3f9a1c`). */
export function newBuildId(at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}
