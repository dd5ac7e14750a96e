// `kiln promote REF --to ENV`: verified, re-checked, copied by digest, recorded and attested.
import { KilnError } from '../core/errors.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println } from './context.js';
import { withKiln } from './kiln.js';
import { REGISTRY_HELP } from './registry.js';

const HELP = `usage: kiln promote REGISTRY/REPO@sha256:…|:TAG --to ENV [PATH] [--key FILE] [--trusted-key FILE.pub] [--insecure-registry] [--json]

Promotes an artifact to an environment of PATH/kiln.yaml (default: the current directory):
  1. fetches it and its evidence, and verifies them: provenance, SBOM, scan and policy decision
     (PASSED), each signed by the trusted key (--trusted-key, default: the signing key's own);
  2. if the environment has \`after: ENV0\`, requires an earlier promotion to ENV0;
  3. scans its signed SBOM against today's vulnerability data and applies today's policy;
  4. copies it by digest — blobs (mounted within one registry), manifest and all evidence, never
     rebuilt — to the environment's repository, and moves the environment's tag to it;
  5. signs a promotion statement (https://kiln.dev/promotion/v1: environment, from, to, when, key),
     attaches it to the artifact there, and records the promotion in the store.
Anything that fails refuses the promotion with the reason; nothing is tagged.

${REGISTRY_HELP}

exit status: 0 promoted, 2 usage, 3 verification failed, 4 registry or environment, 5 the policy blocks it`;

/** Promotes and prints where the artifact went. */
export async function promoteCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'promote',
    argv,
    {
      to: { type: 'string' },
      key: { type: 'string' },
      'trusted-key': { type: 'string' },
      'insecure-registry': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    2,
  );
  if (values.help) {
    println(ctx.stdout, HELP);
    return 0;
  }
  const [ref, projectPath] = positionals;
  if (!ref || !values.to) throw new KilnError('KILN_USAGE', 'kiln promote: give REF and --to ENV', { hint: HELP });
  const environment = values.to;
  const result = await withKiln(ctx, { json: values.json }, (kiln) =>
    kiln.promote({
      ref,
      environment,
      projectPath: projectPath ?? '.',
      key: values.key,
      trustedKey: values['trusted-key'],
      insecure: Boolean(values['insecure-registry']),
    }),
  );
  if (values.json) println(ctx.stdout, JSON.stringify(result, null, 2));
  else println(ctx.stdout, `promoted ${result.from} to ${environment}: ${result.to}`);
  return 0;
}
