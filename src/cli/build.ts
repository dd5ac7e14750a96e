// `kiln build [PATH]`: build the commit at HEAD (or --rev) of the repository holding PATH.
import type { BuildRequest } from '../app/index.js';
import { isKilnError, KilnError } from '../core/errors.js';
import { parseCommandArgs } from './args.js';
import { flakyStepsText } from './builds.js';
import { type CliContext, println } from './context.js';
import { errorJson, reportFailure } from './errors.js';
import { withKiln } from './kiln.js';

const HELP = `usage: kiln build [PATH] [options]
       kiln build --repository URL [--rev REF] [--path DIR] [options]

Builds the commit checked out in the git repository that holds PATH (default: the current
directory), from a clean copy of that commit, following PATH/kiln.yaml. With --repository,
builds a commit of a remote repository instead: its mirror in $KILN_HOME/mirrors is cloned
once and fetched before every build, REF (default: the remote's default branch) is resolved
to the exact commit, and the build records the URL without any credentials in it.
Scans the SBOM against the vulnerability data imported with \`kiln db import\`, and lets
kiln.yaml's \`policy\` decide.
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
  --rev REV        build this commit instead of HEAD (with --repository: a branch, tag or
                   full or abbreviated commit SHA of the remote)
  --repository URL build a commit of this repository (file://, http://, https://, git://);
                   the kiln.yaml \`output\` directory is delivered under the current directory
  --path DIR       with --repository: the project directory inside the repository
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
  --force          build even if an identical build already succeeded (same commit, repository,
                   kiln.yaml, builder, key, trusted cache keys, Kiln, vulnerability data and live
                   policy exceptions); without it, that build's artifacts are checked in the
                   output directory (restored from where it published them if changed) and reused
  --json           print only a JSON result on stdout (progress stays on stderr)
  -h, --help       show this help

environment:
  KILN_GIT_USERNAME, KILN_GIT_PASSWORD   HTTP(S) credentials for --repository (a password or a
                   token; the user name defaults to "git" when only the password is set). They are
                   passed to git in its environment only, and never appear in output, logs, the
                   mirror or provenance; userinfo in the URL is used the same way.

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

/** The request `kiln build` and `kiln plan` make of their shared options. */
export function buildRequest(
  values: { rev?: string; 'allow-dirty'?: boolean; key?: string; runner?: string; cache?: string },
  positionals: readonly string[],
): BuildRequest {
  return {
    projectPath: positionals[0] ?? '.',
    rev: values.rev,
    allowDirty: Boolean(values['allow-dirty']),
    key: values.key,
    runner: values.runner,
    cache: values.cache,
  };
}

/** Runs a build and prints its result. */
export async function buildCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'build',
    argv,
    {
      ...BUILD_OPTIONS,
      explain: { type: 'boolean' },
      force: { type: 'boolean' },
      repository: { type: 'string' },
      path: { type: 'string' },
    },
    1,
  );
  if (values.help) {
    println(ctx.stdout, HELP);
    return 0;
  }
  const show = { json: values.json, explain: values.explain, buildProgress: true };
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const fault = ctx.env.KILN_FAULT_INJECT; // test-only: simulate a crash (kill -9) at a named point
  try {
    const result = await withKiln(ctx, show, (kiln) =>
      kiln.build(
        {
          ...buildRequest(values, positionals),
          ...remoteRequest(ctx, values, positionals),
          force: Boolean(values.force),
        },
        {
          signal: abort.signal,
          checkpoint: (name) => {
            if (fault === name) process.kill(process.pid, 'SIGKILL');
          },
        },
      ),
    );
    if (values.json) println(ctx.stdout, JSON.stringify(buildJson(result), null, 2));
    else printBuild(ctx, result, Boolean(values.explain));
    return 0;
  } catch (err) {
    // A machine reading --json learns of a blocked build from stdout too, with every violation.
    if (values.json && isKilnError(err, 'KILN_POLICY_BLOCKED')) {
      const { buildId, violations, evidenceDir } = err.details ?? {};
      const error = errorJson(err);
      println(ctx.stdout, JSON.stringify({ buildId, status: 'blocked', violations, evidenceDir, error }, null, 2));
      return reportFailure(ctx, err);
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** `--repository URL [--rev REF] [--path DIR]` as a remote source, credentials from KILN_GIT_USERNAME/PASSWORD. */
function remoteRequest(
  ctx: CliContext,
  values: { repository?: string; rev?: string; path?: string; 'allow-dirty'?: boolean },
  positionals: readonly string[],
): Pick<BuildRequest, 'remote'> {
  const refuse = (message: string) =>
    new KilnError('KILN_USAGE', `kiln build: ${message}`, { hint: 'see `kiln build --help`' });
  if (values.repository === undefined) {
    if (values.path !== undefined) throw refuse('--path is only for --repository (pass the project directory as PATH)');
    return {};
  }
  if (positionals.length > 0) {
    throw refuse(`--repository builds a remote repository: a project PATH ("${positionals[0]}") cannot go with it`);
  }
  if (values['allow-dirty'])
    throw refuse('--allow-dirty does not apply to --repository (a remote has no working tree)');
  const { KILN_GIT_USERNAME: username, KILN_GIT_PASSWORD: password } = ctx.env;
  if (username && !password) throw refuse('KILN_GIT_USERNAME is set but KILN_GIT_PASSWORD is not');
  return {
    remote: {
      repository: values.repository,
      ref: values.rev,
      path: values.path,
      credentials: password ? { username: username || 'git', password } : undefined,
    },
  };
}

type Built = Awaited<ReturnType<import('../app/index.js').Kiln['build']>>;

/** What `kiln build --json` prints. */
function buildJson(result: Built) {
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
  const { buildId, commit, status, upToDate, cache, steps, flakySteps, published } = result;
  return { buildId, commit, status, upToDate, artifacts, cache, steps, flakySteps, published };
}

function printBuild(ctx: CliContext, result: Built, explain: boolean): void {
  for (const a of result.artifacts) {
    println(ctx.stdout, `${a.name}: ${a.path}`);
    println(ctx.stdout, `  digest     ${a.digest} (${a.size} bytes)`);
    println(ctx.stdout, `  provenance ${a.evidence.provenance}`);
    println(ctx.stdout, `  sbom       ${a.evidence.sbom} (CycloneDX 1.6), ${a.evidence.spdx} (SPDX 2.3)`);
    println(ctx.stdout, `  scan       ${a.evidence['vulns-attestation']}`);
    println(ctx.stdout, `  policy     ${a.evidence['policy-attestation']}`);
  }
  for (const p of result.published) println(ctx.stdout, `published ${p.ref}`);
  const flaky = result.steps.filter((st) => st.flaky).map((st) => st.name);
  const marked = result.flakySteps > 0 ? `, ${flakyStepsText(result.flakySteps)}` : '';
  const how = result.upToDate
    ? `is up to date (nothing ran; --force builds again)${marked}`
    : `succeeded${marked}${flaky.length ? ` (${flaky.join(', ')})` : ''} (cache: ${result.cache.hits} hit, ${result.cache.misses} miss)`;
  println(
    ctx.stdout,
    `build ${result.buildId} of ${result.commit.slice(0, 12)} ${how}; verify with: kiln verify ${result.artifacts[0]?.path ?? ''}`,
  );
  if (!explain) return;
  for (const st of result.steps) {
    const why = st.cache === 'hit' ? `cache hit (from build ${st.producedBy})` : st.explanation.join('; ');
    println(ctx.stdout, `  ${st.name}: ${why}`);
  }
}
