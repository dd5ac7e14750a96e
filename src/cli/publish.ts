// `kiln publish BUILD-ID --to REGISTRY/REPO[:TAG]`: a recorded build's artifacts and evidence to a registry.
import { KilnError } from '../core/errors.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println } from './context.js';
import { withKiln } from './kiln.js';
import { REGISTRY_HELP } from './registry.js';

const HELP = `usage: kiln publish BUILD-ID --to REGISTRY/REPO[:TAG] [--tag TAG]... [--mutable-tag TAG]... [--insecure-registry] [--json]

Pushes each artifact of a succeeded build (an id or unique prefix, see \`kiln builds\`) with all its
evidence (provenance, SBOMs, scan, policy decision) from the local OCI layout to a registry, by
digest. Evidence is attached through the registry's referrers API, or where it has none (e.g.
distribution 2.8) through the sha256-<hex> tag that cosign and oras also read. Blobs go first, the
artifact and evidence manifests next, tags last: an interrupted push leaves no tag pointing at
missing content, and running it again completes it. A tag already pointing at another digest is
refused unless given with --mutable-tag. One artifact goes to REPO; several go to REPO/<name>.
Prints registry/repo@sha256:… for each artifact.

${REGISTRY_HELP}

exit status: 0 published, 2 usage or an immutable tag, 4 registry or environment problem`;

/** Publishes and prints each artifact's reference by digest. */
export async function publishCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'publish',
    argv,
    {
      to: { type: 'string' },
      tag: { type: 'string', multiple: true },
      'mutable-tag': { type: 'string', multiple: true },
      'insecure-registry': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    1,
  );
  if (values.help) {
    println(ctx.stdout, HELP);
    return 0;
  }
  const buildId = positionals[0];
  if (!buildId || !values.to) throw new KilnError('KILN_USAGE', 'kiln publish: give BUILD-ID and --to', { hint: HELP });
  const published = await withKiln(ctx, { json: values.json }, (kiln) =>
    kiln.publish({
      buildId,
      to: values.to as string,
      tags: values.tag ?? [],
      mutableTags: values['mutable-tag'] ?? [],
      insecure: Boolean(values['insecure-registry']),
    }),
  );
  if (values.json) println(ctx.stdout, JSON.stringify(published, null, 2));
  else for (const p of published) println(ctx.stdout, p.ref);
  return 0;
}
