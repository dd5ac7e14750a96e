// `kiln build [PATH]`: build the commit at HEAD (or --rev) of the repository holding PATH.
import { availableParallelism } from 'node:os';
import { runBuild } from '../pipeline/build.js';
import { hostRunner } from '../sandbox/index.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println } from './context.js';
import { progressDisplay } from './progress.js';

const HELP = `usage: kiln build [PATH] [options]

Builds the commit checked out in the git repository that holds PATH (default: the current
directory), from a clean copy of that commit, following PATH/kiln.yaml. Delivers each artifact
with its signed provenance (<file>.sigstore.json), CycloneDX SBOM (<file>.cdx.json) and signed
SBOM attestation (<file>.cdx.sigstore.json) into the kiln.yaml \`output\` directory, publishes them
to the OCI layout in $KILN_HOME/oci and records the build in $KILN_HOME/store.db.

options:
  --rev REV        build this commit instead of HEAD
  --allow-dirty    build uncommitted changes too (provenance records the tree as dirty)
  --key FILE       sign with this PEM private key (else $KILN_SIGNING_KEY, else signing.key in
                   kiln.yaml, else a local key created once in $KILN_HOME/keys)
  --json           print only a JSON result on stdout (progress stays on stderr)
  -h, --help       show this help

exit status: 0 built, 1 a step or stage failed, 2 usage/config/dirty tree, 4 environment problem`;

/** Runs a build and prints its result. */
export async function buildCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'build',
    argv,
    {
      rev: { type: 'string' },
      'allow-dirty': { type: 'boolean' },
      key: { type: 'string' },
      json: { type: 'boolean' },
    },
    1,
  );
  if (values.help) {
    println(ctx.stdout, HELP);
    return 0;
  }
  const progress = progressDisplay(ctx.stderr, { live: Boolean(ctx.stderr.isTTY) && !values.json });
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
      },
      {
        kilnHome: ctx.kilnHome,
        cwd: ctx.cwd,
        env: ctx.env,
        runner: hostRunner(),
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
    if (values.json) {
      const artifacts = result.artifacts.map(({ name, path, digest, size, bundle, sbom }) => ({
        name,
        path,
        digest,
        size,
        bundle,
        sbom,
      }));
      println(
        ctx.stdout,
        JSON.stringify({ buildId: result.buildId, commit: result.commit, status: result.status, artifacts }, null, 2),
      );
    } else {
      for (const a of result.artifacts) {
        println(ctx.stdout, `${a.name}: ${a.path}`);
        println(ctx.stdout, `  digest     ${a.digest} (${a.size} bytes)`);
        println(ctx.stdout, `  provenance ${a.bundle}`);
        println(ctx.stdout, `  sbom       ${a.sbom}`);
      }
      println(
        ctx.stdout,
        `build ${result.buildId} of ${result.commit.slice(0, 12)} succeeded; verify with: kiln verify ${result.artifacts[0]?.path ?? ''}`,
      );
    }
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress.stop();
  }
}
