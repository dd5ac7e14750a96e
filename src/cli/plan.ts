// `kiln plan [PATH]`: each step's action key and whether the cache would replay it, without building.
import { parseCommandArgs } from './args.js';
import { BUILD_OPTIONS, buildRequest } from './build.js';
import { type CliContext, println } from './context.js';
import { withKiln } from './kiln.js';

const HELP = `usage: kiln plan [PATH] [--rev REV] [--allow-dirty] [--key FILE] [--runner KIND] [--cache SPEC] [--json]

Shows, without running anything, every step of the build of PATH (after perPackage expansion) with
its action key and whether the cache would replay it; for a miss, exactly what changed since the
step's last recorded build. A step that needs a step which must run has no key yet.`;

/** Prints the plan as a table or JSON. */
export async function planCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('plan', argv, BUILD_OPTIONS, 1);
  if (values.help) {
    println(ctx.stdout, HELP);
    return 0;
  }
  const plan = await withKiln(ctx, { json: values.json, buildProgress: true }, (kiln) =>
    kiln.plan(buildRequest(values, positionals)),
  );
  if (values.json) {
    println(ctx.stdout, JSON.stringify(plan, null, 2));
    return 0;
  }
  println(
    ctx.stdout,
    `plan for ${plan.project} at ${plan.commit.slice(0, 12)} (runner ${plan.runner}, builder ${plan.builder.slice(7, 19)})`,
  );
  for (const s of plan.steps) {
    const key = s.key ? s.key.slice(0, 12) : '-'.repeat(12);
    const why = s.cache === 'hit' ? `from build ${s.producedBy}` : s.explanation.join('; ');
    println(ctx.stdout, `  ${s.cache.padEnd(10)} ${key}  ${s.name}  ${why}`);
  }
  return 0;
}
