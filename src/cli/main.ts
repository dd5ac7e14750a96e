// Dispatches `kiln <command>` and turns every failure into a clear message and a meaningful exit status.
import { readFileSync } from 'node:fs';
import { KilnError } from '../core/errors.js';
import { closest } from '../core/suggest.js';
import { packageFile } from '../platform/assets.js';
import { type CliContext, println, processContext } from './context.js';
import { reportFailure } from './errors.js';

type Command = (ctx: CliContext, argv: string[]) => Promise<number>;

// Commands are imported when run, so `kiln --help` or `kiln verify` do not load what `kiln build` needs.
const COMMANDS: Readonly<Record<string, { load: () => Promise<Command>; summary: string }>> = {
  build: {
    load: async () => (await import('./build.js')).buildCommand,
    summary: 'build a commit into signed, SBOM’d artifacts',
  },
  plan: {
    load: async () => (await import('./plan.js')).planCommand,
    summary: 'show each step’s action key and cache hit/miss (with why), without building',
  },
  verify: {
    load: async () => (await import('./verify.js')).verifyCommand,
    summary: 'verify an artifact against its Sigstore bundle and a key',
  },
  sbom: {
    load: async () => (await import('./sbom.js')).sbomCommand,
    summary: 'the SBOM (CycloneDX or SPDX) of a project’s lockfiles, without building',
  },
  publish: {
    load: async () => (await import('./publish.js')).publishCommand,
    summary: 'push a recorded build’s artifacts and evidence to an OCI registry, by digest',
  },
  promote: {
    load: async () => (await import('./promote.js')).promoteCommand,
    summary: 'verify, re-check and copy an artifact by digest to an environment',
  },
  db: {
    load: async () => (await import('./db.js')).dbCommand,
    summary: 'import OSV vulnerability data into the store; show what it holds',
  },
  scan: {
    load: async () => (await import('./scan.js')).scanCommand,
    summary: 'which recorded artifacts the current vulnerability data affects',
  },
  builds: { load: async () => (await import('./builds.js')).buildsCommand, summary: 'list recorded builds' },
  show: {
    load: async () => (await import('./builds.js')).showCommand,
    summary: 'show one build: steps, timings, artifacts, evidence',
  },
  gc: {
    load: async () => (await import('./gc.js')).gcCommand,
    summary: 'keep what retention says and remove the rest (dry run unless --apply)',
  },
  cache: {
    load: async () => (await import('./cache.js')).cacheCommand,
    summary: 'local cache statistics and size-bounded LRU garbage collection',
  },
  keys: { load: async () => (await import('./keys.js')).keysCommand, summary: 'generate signing keys' },
  serve: {
    load: async () => (await import('./serve.js')).serveCommand,
    summary: 'serve the HTTP API (builds, tokens) over this Kiln home',
  },
  worker: {
    load: async () => (await import('./worker.js')).workerCommand,
    summary: "build the queue's jobs on this machine, for the kiln serve whose store it shares",
  },
  submit: {
    load: async () => (await import('./submit.js')).submitCommand,
    summary: 'queue a build on a Kiln server, and follow it to the end',
  },
  metrics: {
    load: async () => (await import('./slo.js')).metricsCommand,
    summary: 'print the metrics kiln serve exports, or write them for node_exporter (--textfile)',
  },
  slo: {
    load: async () => (await import('./slo.js')).sloCommand,
    summary: 'print Prometheus SLO rules or an Alertmanager config for kiln-server.yaml',
  },
  tokens: {
    load: async () => (await import('./tokens.js')).tokensCommand,
    summary: 'create, list and revoke API tokens for kiln serve',
  },
  config: {
    load: async () => (await import('./config.js')).configCommand,
    summary: 'print the JSON Schema of kiln.yaml or kiln-server.yaml, or check one',
  },
};

/** Every command with its one-line summary, in the order `kiln --help` lists them. */
export const COMMAND_SUMMARIES = Object.entries(COMMANDS).map(([name, c]) => ({ name, summary: c.summary }));

const USAGE = `usage: kiln <command> [options]

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`)
  .join('\n')}

Run \`kiln <command> --help\` for a command's options.
Exit status: 0 ok, 1 build failed, 2 usage or configuration error, 3 verification failed,
4 environment problem (store, disk, layout), 5 blocked by policy, 70 internal error (a bug),
130 interrupted. Every error line names its code (KILN_…): docs/reference/errors.md.`;

/** Runs the CLI with `argv` (without node and script) and returns the exit status. */
export async function main(argv: string[], ctx: CliContext = processContext(kilnVersion())): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    println(ctx.stdout, USAGE);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    println(ctx.stdout, ctx.version);
    return 0;
  }
  try {
    return await (await commandNamed(name).load())(ctx, rest);
  } catch (err) {
    return reportFailure(ctx, err, { json: jsonRequested(rest) });
  }
}

/** The command called `name`, or a usage error naming the closest one. */
function commandNamed(name: string): (typeof COMMANDS)[string] {
  const command = COMMANDS[name];
  if (command) return command;
  const near = closest(name, Object.keys(COMMANDS));
  throw new KilnError('KILN_USAGE', `unknown command "${name}"`, {
    hint: `${near ? `did you mean \`kiln ${near}\`? ` : ''}\`kiln --help\` lists the commands`,
  });
}

/** True when the arguments ask for --json output (as an option, before any `--`). */
function jsonRequested(argv: readonly string[]): boolean {
  const at = argv.indexOf('--json');
  const end = argv.indexOf('--');
  return at !== -1 && (end === -1 || at < end);
}

/** Kiln's own version, from its package.json. */
export function kilnVersion(): string {
  const pkg = JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string };
  return pkg.version;
}
