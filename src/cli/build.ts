// `kiln build [PATH]`: build the commit at HEAD (or --rev) of the repository holding PATH.
import { availableParallelism } from 'node:os';
import { runBuild } from '../app/build/build.js';
import { parseCacheMode } from '../cache/modes.js';
import type { PublishConfig } from '../config/index.js';
import { isKilnError, KilnError } from '../core/errors.js';
import { kilnPaths } from '../core/home.js';
import { bubblewrapRunner, hostRunner, probeBubblewrap, type StepRunner } from '../sandbox/index.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println } from './context.js';
import { progressDisplay } from './progress.js';

const HELP = `usage: kiln build [PATH] [options]

Builds the commit checked out in the git repository that holds PATH (default: the current
directory), from a clean copy of that commit, following PATH/kiln.yaml. Scans the SBOM against
the vulnerability data imported with \`kiln db import\`, and lets kiln.yaml's \`policy\` decide.
Delivers each artifact into the kiln.yaml \`output\` directory with its evidence:
  <file>.sigstore.json          signed SLSA provenance
  <file>.cdx.json, .spdx.json   CycloneDX 1.6 and SPDX 2.3 SBOMs
  <file>.cdx.sigstore.json,     signed attestations of both SBOMs
  <file>.spdx.sigstore.json
  <file>.vulns.sigstore.json    signed vulnerability scan (in-toto vulns v0.2)
  <file>.policy.sigstore.json   signed policy decision (SLSA verification summary)
publishes them to the OCI layout in $KILN_HOME/oci and records the build in $KILN_HOME/store.db.
A build the policy blocks is recorded as blocked, publishes and delivers nothing, prints each
violation with the dependency path that brought it in, and keeps its signed scan and decision
in $KILN_HOME/builds/<id>/blocked.

options:
  --rev REV        build this commit instead of HEAD
  --allow-dirty    build uncommitted changes too (provenance records the tree as dirty)
  --key FILE       sign with this PEM private key (else $KILN_SIGNING_KEY, else signing.key in
                   kiln.yaml, else a local key created once in $KILN_HOME/keys)
  --runner KIND    bubblewrap (default: each step in a sandbox with no network unless it declares
                   network: true, a read-only toolchain, only its declared inputs) or host (no
                   isolation; provenance records the build as not hermetic)
  --cache SPEC     cache tiers and modes, e.g. local:rw,remote:r or local:off,remote:off
                   (remote URL: cache.remote in kiln.yaml or $KILN_REMOTE_CACHE;
                   Authorization header value: $KILN_REMOTE_CACHE_AUTH)
  --explain        say for every step that missed the cache exactly what changed
  --force          build even if an identical build (same commit, kiln.yaml, builder, key and
                   Kiln) already succeeded; without it, that build's artifacts are checked in
                   the output directory (restored from the OCI layout if changed) and reused
  --json           print only a JSON result on stdout (progress stays on stderr)
  -h, --help       show this help

exit status: 0 built, 1 a step or stage failed, 2 usage/config/dirty tree, 4 environment problem,
5 blocked by the policy`;

/** The options `kiln build` and `kiln plan` share: which source, which key, which runner and cache. */
export const BUILD_OPTIONS = {
  rev: { type: 'string' },
  'allow-dirty': { type: 'boolean' },
  key: { type: 'string' },
  runner: { type: 'string' },
  cache: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Runs a build and prints its result. */
export async function buildCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'build',
    argv,
    { ...BUILD_OPTIONS, explain: { type: 'boolean' }, force: { type: 'boolean' } },
    1,
  );
  if (values.help) {
    println(ctx.stdout, HELP);
    return 0;
  }
  const cacheModes = values.cache ? parseCacheMode(values.cache) : undefined;
  const runner = await chooseRunner(values.runner, ctx);
  const progress = progressDisplay(ctx.stderr, {
    live: Boolean(ctx.stderr.isTTY) && !values.json,
    explain: Boolean(values.explain),
  });
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const fault = ctx.env.KILN_FAULT_INJECT; // test-only: simulate a crash (kill -9) at a named point
  try {
    const result = await runBuild(
      {
        projectPath: positionals[0] ?? '.',
        rev: values.rev,
        allowDirty: Boolean(values['allow-dirty']),
        keyFlag: values.key,
        cacheModes,
        force: Boolean(values.force),
      },
      {
        kilnHome: ctx.kilnHome,
        cwd: ctx.cwd,
        env: ctx.env,
        runner,
        parallelism: Math.max(1, availableParallelism()),
        kilnVersion: ctx.version,
        now: ctx.now,
        emit: progress.onEvent,
        signal: abort.signal,
        checkpoint: (name) => {
          if (fault === name) process.kill(process.pid, 'SIGKILL');
        },
      },
    );
    const published = result.publish ? await publishAfterBuild(ctx, result.buildId, result.publish) : [];
    if (values.json) {
      const artifacts = result.artifacts.map(({ name, path, digest, size, evidence }) => ({
        name,
        path,
        digest,
        size,
        bundle: evidence.provenance,
        sbom: evidence.sbom,
        spdx: evidence.spdx,
        vulns: evidence['vulns-attestation'],
        policy: evidence['policy-attestation'],
      }));
      const { buildId, commit, status, upToDate, cache, steps } = result;
      const out = { buildId, commit, status, upToDate, artifacts, cache, steps, published };
      println(ctx.stdout, JSON.stringify(out, null, 2));
    } else {
      for (const a of result.artifacts) {
        println(ctx.stdout, `${a.name}: ${a.path}`);
        println(ctx.stdout, `  digest     ${a.digest} (${a.size} bytes)`);
        println(ctx.stdout, `  provenance ${a.evidence.provenance}`);
        println(ctx.stdout, `  sbom       ${a.evidence.sbom} (CycloneDX 1.6), ${a.evidence.spdx} (SPDX 2.3)`);
        println(ctx.stdout, `  scan       ${a.evidence['vulns-attestation']}`);
        println(ctx.stdout, `  policy     ${a.evidence['policy-attestation']}`);
      }
      for (const p of published) println(ctx.stdout, `published ${p.ref}`);
      const how = result.upToDate
        ? 'is up to date (nothing ran; --force builds again)'
        : `succeeded (cache: ${result.cache.hits} hit, ${result.cache.misses} miss)`;
      println(
        ctx.stdout,
        `build ${result.buildId} of ${result.commit.slice(0, 12)} ${how}; verify with: kiln verify ${result.artifacts[0]?.path ?? ''}`,
      );
      if (values.explain) {
        for (const st of result.steps) {
          const why = st.cache === 'hit' ? `cache hit (from build ${st.producedBy})` : st.explanation.join('; ');
          println(ctx.stdout, `  ${st.name}: ${why}`);
        }
      }
    }
    return 0;
  } catch (err) {
    // A machine reading --json learns of a blocked build from stdout too, with every violation.
    if (values.json && isKilnError(err, 'E_POLICY_BLOCKED')) {
      const { buildId, violations, evidenceDir } = err.details ?? {};
      println(ctx.stdout, JSON.stringify({ buildId, status: 'blocked', violations, evidenceDir }, null, 2));
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress.stop();
  }
}

/**
 * kiln.yaml's `publish:` after a build the gate passed (or an up-to-date one: pushing what is already there changes
 * nothing). A failure here leaves the build recorded and delivered; `kiln publish <id>` retries.
 */
async function publishAfterBuild(ctx: CliContext, buildId: string, publish: PublishConfig) {
  const { publishRecorded } = await import('./publish.js');
  try {
    return await publishRecorded(ctx, buildId, {
      to: publish.to,
      tags: publish.tags,
      mutableTags: publish.mutableTags,
      insecure: publish.insecure,
      quiet: false,
    });
  } catch (err) {
    if (err instanceof KilnError) {
      throw new KilnError(err.code, `build ${buildId} succeeded, but publishing it failed: ${err.message}`, {
        cause: err,
        hint: `${err.hint ?? ''}${err.hint ? '; ' : ''}retry with: kiln publish ${buildId} --to ${publish.to}`,
      });
    }
    throw err;
  }
}

/** The sandbox by default; the host runner only when asked for by name. */
export async function chooseRunner(kind: string | undefined, ctx: CliContext): Promise<StepRunner> {
  if (kind === 'host') return hostRunner();
  if (kind !== undefined && kind !== 'bubblewrap') {
    throw new KilnError('E_USAGE', `unknown --runner "${kind}"`, { hint: 'use bubblewrap (the default) or host' });
  }
  // Probed in the background (~11 ms): a build that runs no step (an up-to-date one) never waits for it.
  const probe = probeBubblewrap().then((result) => {
    if (!result.ok) {
      throw new KilnError('E_SANDBOX', result.reason, {
        hint: 'install bubblewrap (apt-get install bubblewrap) so steps run sandboxed, or pass --runner host to build without isolation (provenance will say so)',
      });
    }
  });
  probe.catch(() => undefined); // reported where ready() is awaited, never as an unhandled rejection
  return { ...bubblewrapRunner({ hidden: [kilnPaths(ctx.kilnHome).home] }), ready: () => probe };
}
