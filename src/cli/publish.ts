// `kiln publish BUILD-ID --to REGISTRY/REPO[:TAG]`: a recorded build's artifacts and evidence to a registry.

import { type PublishedRef, publishBuild } from '../app/publish.js';
import { KilnError } from '../core/errors.js';
import { kilnPaths } from '../core/home.js';
import { parseRegistryRef } from '../registry/remote/index.js';
import { openSqliteStore } from '../store/index.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println } from './context.js';
import { REGISTRY_HELP, registryClient } from './registry.js';

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
  if (!buildId || !values.to) throw new KilnError('E_USAGE', 'kiln publish: give BUILD-ID and --to', { hint: HELP });
  const to = parseRegistryRef(values.to);
  if (to.digest) {
    throw new KilnError('E_USAGE', `--to ${values.to} names a digest`, {
      hint: 'give REGISTRY/REPO or REGISTRY/REPO:TAG',
    });
  }
  const mutable = values['mutable-tag'] ?? [];
  const published = await publishRecorded(ctx, buildId, {
    to: values.to,
    tags: values.tag ?? [],
    mutableTags: mutable,
    insecure: Boolean(values['insecure-registry']),
    quiet: Boolean(values.json),
  });
  if (values.json) println(ctx.stdout, JSON.stringify(published, null, 2));
  else for (const p of published) println(ctx.stdout, p.ref);
  return 0;
}

/**
 * Publishes a recorded build from the store and OCI layout in the Kiln home: what `kiln publish` and kiln.yaml's
 * `publish:` both do. Mutable tags are set too; `to` may carry a tag, which `tags` then need not repeat.
 */
export async function publishRecorded(
  ctx: CliContext,
  buildId: string,
  opts: { to: string; tags: readonly string[]; mutableTags: readonly string[]; insecure: boolean; quiet: boolean },
): Promise<PublishedRef[]> {
  const to = parseRegistryRef(opts.to);
  const tags = [...new Set([...(to.tag ? [to.tag] : []), ...opts.tags, ...opts.mutableTags])];
  const client = await registryClient(ctx, to.registry, opts.insecure);
  const paths = kilnPaths(ctx.kilnHome);
  const store = await openSqliteStore(paths.store);
  try {
    return await publishBuild({
      store,
      ociDir: paths.oci,
      buildId,
      target: { registry: to.registry, repository: to.repository, tags, mutableTags: opts.mutableTags },
      client,
      emit: (message) => {
        if (!opts.quiet) println(ctx.stderr, `kiln: ${message}`);
      },
    });
  } finally {
    await store.close();
  }
}
