// `kiln builds` and `kiln show <id>`: read the provenance store.

import { KilnError } from '../core/errors.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println, table } from './context.js';
import { withKiln } from './kiln.js';

const BUILDS_HELP = `usage: kiln builds [--limit N] [--project NAME] [--json]

Lists recorded builds, newest first: the last N (default 20), of one project with --project.`;

const SHOW_HELP = `usage: kiln show <build-id | commit | sha256:artifact-digest> [--json]

Shows one build: its steps with status, exit code and duration, its artifacts with digests, and the
evidence (provenance, SBOM) recorded for each. Name it by its id, the commit it built or the digest of
an artifact it made, each in full or by a unique prefix; a commit or digest several builds share shows
the newest of them. A prefix that names more than one thing is refused with the candidates.`;

/** Lists builds as a table or JSON. */
export async function buildsCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    'builds',
    argv,
    { limit: { type: 'string', default: '20' }, project: { type: 'string' }, json: { type: 'boolean' } },
    0,
  );
  if (values.help) return help(ctx, BUILDS_HELP);
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new KilnError('KILN_USAGE', `--limit must be a positive integer, got "${values.limit}"`, {
      hint: 'give the number of builds to list, e.g. --limit 50',
    });
  }
  const rows = await withKiln(ctx, { json: values.json }, (kiln) =>
    kiln.listBuilds({ limit, project: values.project }),
  );
  if (values.json) {
    println(
      ctx.stdout,
      JSON.stringify(
        rows.map((r) => ({ ...r, dirty: r.dirty === 1 })),
        null,
        2,
      ),
    );
    return 0;
  }
  if (rows.length === 0) {
    println(ctx.stdout, 'no builds recorded yet (run `kiln build`)');
    return 0;
  }
  table(
    ctx,
    ['BUILD', 'PROJECT', 'COMMIT', 'STATUS', 'DURATION', 'STARTED'],
    rows.map((r) => [
      r.id,
      r.project,
      r.commit_sha.slice(0, 12) + (r.dirty ? '+dirty' : ''),
      r.flaky_steps > 0 ? `${r.status}, ${flakyStepsText(r.flaky_steps)}` : r.status,
      `${(r.duration_ms / 1000).toFixed(1)}s`,
      r.started_at,
    ]),
  );
  return 0;
}

/** Shows one build in detail. */
export async function showCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('show', argv, { json: { type: 'boolean' } }, 1);
  if (values.help) return help(ctx, SHOW_HELP);
  const id = positionals[0];
  if (!id) {
    throw new KilnError('KILN_USAGE', 'kiln show: missing build id, commit or artifact digest', {
      hint: 'list builds with `kiln builds`',
    });
  }
  const detail = await withKiln(ctx, { json: values.json }, (kiln) => kiln.showBuild(id));
  if (values.json) {
    const steps = detail.steps.map((s) => ({ ...s, flaky: s.flaky === 1 }));
    println(ctx.stdout, JSON.stringify({ ...detail, steps }, null, 2));
    return 0;
  }
  const b = detail.build;
  const flaky = b.flaky_steps > 0 ? `, ${flakyStepsText(b.flaky_steps)}` : '';
  println(ctx.stdout, `build     ${b.id}  ${b.status}${flaky}${b.exit_code !== null ? ` (exit ${b.exit_code})` : ''}`);
  println(ctx.stdout, `project   ${b.project}${b.subdir ? ` (${b.subdir})` : ''}`);
  println(ctx.stdout, `source    ${b.repo_url} @ ${b.commit_sha}${b.dirty ? ' (dirty tree)' : ''}`);
  println(ctx.stdout, `builder   ${b.builder_id} (runner: ${b.runner})`);
  if (b.worker_id !== null) println(ctx.stdout, `worker    ${b.worker_id} on ${b.worker_host ?? '?'}`);
  println(ctx.stdout, `time      ${b.started_at} → ${b.finished_at} (${(b.duration_ms / 1000).toFixed(1)}s)`);
  if (b.error) println(ctx.stdout, `error     ${b.error}`);
  println(ctx.stdout, '\nsteps');
  table(
    ctx,
    ['STEP', 'STATUS', 'EXIT', 'DURATION', 'LOG'],
    detail.steps.map((s) => [
      s.name,
      stepStatus(s),
      s.exit_code === null ? '-' : String(s.exit_code),
      `${(s.duration_ms / 1000).toFixed(1)}s`,
      s.log_path ?? '-',
    ]),
  );
  println(ctx.stdout, '\nartifacts');
  table(
    ctx,
    ['NAME', 'DIGEST', 'SIZE', 'PATH'],
    detail.artifacts.map((a) => [a.name, a.digest, String(a.size), a.path]),
  );
  println(ctx.stdout, '\nevidence');
  table(
    ctx,
    ['ARTIFACT', 'KIND', 'DIGEST', 'PATH'],
    detail.evidence.map((e) => [e.artifact_name, e.kind, e.digest, e.path]),
  );
  return 0;
}

/** `1 flaky step`, `2 flaky steps`: how a build whose steps passed only after failing is marked. */
export function flakyStepsText(n: number): string {
  return `${n} flaky step${n === 1 ? '' : 's'}`;
}

/** A step's status, with how many attempts it took when it passed only after failing, or failed after retries. */
function stepStatus(s: { status: string; attempts: number; flaky: number }): string {
  if (s.flaky === 1) return `${s.status} (flaky: ${s.attempts} attempts)`;
  if (s.status === 'failed' && s.attempts > 1) return `${s.status} (${s.attempts} attempts)`;
  return s.status;
}

function help(ctx: CliContext, text: string): number {
  println(ctx.stdout, text);
  return 0;
}
