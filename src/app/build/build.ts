// `kiln build`: source → SBOM → steps → package → attest → gate → publish → deliver → record, then kiln.yaml's
// `publish:` to a registry. This part resolves what is built and hands back an identical earlier build; run.ts runs a
// new one.

import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { signerSeal } from '../../attest/seal.js';
import { parseCacheMode } from '../../cache/modes.js';
import { NO_CACHE_FIGURES } from '../../cache/stats.js';
import type { KilnConfig, PublishConfig } from '../../config/index.js';
import { KilnError } from '../../core/errors.js';
import { type EventListener, eventSink } from '../../core/events.js';
import { identifyBuilder, resolveBuilder } from '../../sandbox/identity.js';
import { findBuildByFingerprint, osvDataState, type Store } from '../../store/index.js';
import type { KilnPorts, RunnerKind } from '../ports.js';
import { type PublishedRef, publish } from '../publish.js';
import { prepareBuild } from './prepare.js';
import { builderIdOf } from './record.js';
import { buildFingerprint, redeliver } from './reuse.js';
import type { BuildOptions, BuildRequest, BuildResult, BuildWorld } from './types.js';

/** Runs one build (and kiln.yaml's `publish:`); throws KilnError on failure. Once started, every outcome is recorded. */
export async function build(
  ports: KilnPorts,
  request: BuildRequest,
  opts: BuildOptions = {},
): Promise<BuildResult & { readonly published: readonly PublishedRef[] }> {
  const own = opts.onEvent ? withListener(ports, opts.onEvent) : ports;
  const result = await runBuild(buildWorld(own, request, opts), request);
  const published = result.publish ? await publishAfterBuild(own, result.buildId, result.publish) : [];
  return { ...result, published };
}

/** The ports with every event also stamped and handed to `listener` (this build's own log). */
function withListener(ports: KilnPorts, listener: EventListener): KilnPorts {
  const own = eventSink(ports.now, listener);
  return {
    ...ports,
    events: (event) => {
      ports.events(event);
      own(event);
    },
  };
}

/** What every part of a build works with: the ports, the runner and cache tiers asked for, and the abort signal. */
export function buildWorld(
  ports: KilnPorts,
  request: Pick<BuildRequest, 'runner' | 'cache' | 'worker' | 'job'>,
  opts: BuildOptions = {},
) {
  const world: BuildWorld = {
    ports,
    runner: ports.runners(runnerKind(request.runner)),
    cacheModes: parseCacheMode(request.cache ?? 'local:rw,remote:rw'),
    worker: request.worker,
    job: request.job,
    signal: opts.signal,
    checkpoint: opts.checkpoint,
  };
  return world;
}

async function runBuild(world: BuildWorld, req: BuildRequest): Promise<BuildResult> {
  const { ports } = world;
  const startedAt = ports.now();
  const prepared = await prepareBuild(req, ports);
  const { projectPath, source, config, configText, signing } = prepared;
  // The tool memo is sealed with the signing key (the builder digest is in provenance and every action key), so the
  // builder identity is computed once the key is known (~1 ms with the memo, ~0.2 s on a fresh home).
  const toolMemo = { paths: ports.home, seal: signerSeal(signing.signer) };
  const store = await ports.store(); // before any work: an unusable store fails fast
  // The key file is known only now (--key, KILN_SIGNING_KEY, signing.key): wherever it lives, no step sees it.
  const sandboxed = signing.file ? (world.runner.hiding?.([signing.file]) ?? world.runner) : world.runner;
  const { runner, builder } = await resolveBuilder(
    { sandbox: config.sandbox, projectPath },
    sandboxed,
    (extra) => identifyBuilder(world.runner, ports.env, toolMemo, extra),
    (message) => ports.events({ kind: 'notice', message }),
    ports.home.home,
  );
  const today = ports.now().toISOString().slice(0, 10);
  const fingerprint = buildFingerprint({
    kilnVersion: ports.version,
    source,
    configText,
    builder: builder.digest,
    builderId: builderIdOf(world),
    publicKeyPem: signing.signer.publicKeyPem,
    // The policy's verdict changes with new vulnerability data and when an exception expires.
    verdictInputs: {
      vulnerabilityData: (await osvDataState(store)).revision,
      liveExceptions: config.policy.exceptions.flatMap((e, i) => (e.expires >= today ? [i] : [])),
    },
    trustedKeys: await Promise.all(
      config.cache.trust.map((file) => fsp.readFile(resolve(projectPath, file), 'utf8').catch(() => `missing ${file}`)),
    ),
  });
  if (fingerprint && !req.force) {
    const reused = await reuseEarlier(ports, store, fingerprint, { config, projectPath });
    if (reused) return reused;
  }
  await world.runner.ready?.();
  const running = await import('./run.js'); // not loaded for an up-to-date build
  return running.runSteppedBuild({ world: { ...world, runner }, prepared, store, builder, fingerprint, startedAt });
}

/** The result of an identical earlier build, its files checked (or restored) in the output dir; else undefined. */
async function reuseEarlier(
  ports: KilnPorts,
  store: Store,
  fingerprint: string,
  opts: { config: KilnConfig; projectPath: string },
): Promise<BuildResult | undefined> {
  const earlier = await findBuildByFingerprint(store, opts.config.name, fingerprint);
  if (!earlier) return undefined;
  const outputDir = join(opts.projectPath, opts.config.output);
  const artifacts = await redeliver(earlier, outputDir, await ports.artifacts.source());
  if (!artifacts) return undefined;
  const { build } = earlier;
  ports.events({ kind: 'build-reused', buildId: build.id, commit: build.commit_sha, outputDir });
  return {
    buildId: build.id,
    commit: build.commit_sha,
    status: 'succeeded',
    upToDate: true,
    artifacts,
    cache: NO_CACHE_FIGURES,
    steps: [],
    flakySteps: build.flaky_steps, // the build handed back keeps its mark
    publish: opts.config.publish ?? null,
  };
}

/**
 * kiln.yaml's `publish:` after a build the gate passed (or an up-to-date one: pushing what is already there changes
 * nothing). A failure here leaves the build recorded and delivered; `kiln publish <id>` retries.
 */
async function publishAfterBuild(ports: KilnPorts, buildId: string, config: PublishConfig) {
  try {
    return await publish(ports, {
      buildId,
      to: config.to,
      tags: config.tags,
      mutableTags: config.mutableTags,
      insecure: config.insecure,
    });
  } catch (err) {
    if (!(err instanceof KilnError)) throw err;
    throw new KilnError(err.code, `build ${buildId} succeeded, but publishing it failed: ${err.message}`, {
      cause: err,
      hint: `${err.hint ?? ''}${err.hint ? '; ' : ''}retry with: kiln publish ${buildId} --to ${config.to}`,
    });
  }
}

/** The runner kind a request names; anything else is a usage error. */
function runnerKind(kind: string | undefined): RunnerKind | undefined {
  if (kind === undefined || kind === 'bubblewrap' || kind === 'host') return kind;
  throw new KilnError('KILN_USAGE', `unknown --runner "${kind}"`, { hint: 'use bubblewrap (the default) or host' });
}
