// `kiln verify FILE`: offline check of an artifact against its Sigstore bundle, a public key and expectations.

import { exitStatusOf, KilnError } from '../core/errors.js';
import { escapeForTerminal } from '../core/terminal.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println } from './context.js';
import { withKiln } from './kiln.js';

const HELP = `usage: kiln verify FILE [--bundle BUNDLE] [--key KEY.pub] [options]
       kiln verify oci://REGISTRY/REPO@sha256:…|:TAG [--key KEY.pub] [options]

Verifies, offline, that FILE is what its bundle says: the DSSE signature (with KEY.pub), that the
statement's subject digest equals FILE's sha256, the predicate type and, when given, the builder,
source commit and source repository. Exit 0 only when every check passes.

options:
  --bundle FILE          Sigstore bundle (default: FILE.sigstore.json)
  --key FILE             PEM public key (default: $KILN_HOME/keys/default.pub, if it exists)
  --trusted-root FILE    Sigstore trusted root JSON, for bundles that carry tlog entries or timestamps
  --predicate-type URI   expected predicate type (default: https://slsa.dev/provenance/v1)
  --builder-id URI       expected builder id
  --source-commit SHA    expected source commit
  --source-repo URL      expected source repository
  --require LIST         also require this evidence beside FILE, each bundle verified with the same
                         key and subject: sbom (FILE.cdx.sigstore.json), spdx (FILE.spdx.sigstore.json),
                         vulns (FILE.vulns.sigstore.json), policy (FILE.policy.sigstore.json: the
                         decision must be PASSED, and the evidence it judged must be the files here)
  --insecure-registry    allow plain http to a registry that is not on loopback
  --json                 print the report as JSON

oci://: the artifact and its evidence are fetched from the registry (a tag is resolved to a digest
first, and the digest is what is verified and printed), each checked against its digest, and then
verified exactly as files are. Evidence is found through the referrers API or the sha256-<hex> tag.

exit status: 0 verified, 3 a check failed, 2 usage error`;

/** Verifies and prints each check. */
export async function verifyCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'verify',
    argv,
    {
      bundle: { type: 'string' },
      key: { type: 'string' },
      'trusted-root': { type: 'string' },
      'predicate-type': { type: 'string' },
      'builder-id': { type: 'string' },
      'source-commit': { type: 'string' },
      'source-repo': { type: 'string' },
      require: { type: 'string' },
      'insecure-registry': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    1,
  );
  if (values.help) {
    println(ctx.stdout, HELP);
    return 0;
  }
  const target = positionals[0];
  if (!target) throw new KilnError('KILN_USAGE', 'kiln verify: missing FILE', { hint: HELP });
  const result = await withKiln(ctx, { json: values.json }, (kiln) =>
    kiln.verify({
      target,
      bundle: values.bundle,
      key: values.key,
      trustedRoot: values['trusted-root'],
      expect: {
        ...(values['predicate-type'] ? { predicateType: values['predicate-type'] } : {}),
        ...(values['builder-id'] ? { builderId: values['builder-id'] } : {}),
        ...(values['source-commit'] ? { sourceCommit: values['source-commit'] } : {}),
        ...(values['source-repo'] ? { sourceRepo: values['source-repo'] } : {}),
      },
      require: (values.require ?? '').split(',').filter(Boolean),
      insecure: Boolean(values['insecure-registry']),
    }),
  );
  if (values.json) println(ctx.stdout, JSON.stringify(result, null, 2));
  else {
    // A check's message quotes what the evidence says (predicate types, names, registry answers): one line each.
    for (const c of result.checks)
      println(ctx.stdout, `${c.ok ? '✓' : '✗'} ${c.check}: ${escapeForTerminal(c.message)}`);
    println(ctx.stdout, result.ok ? `verified: ${result.artifact}` : `NOT verified: ${result.artifact}`);
  }
  return result.ok ? 0 : exitStatusOf('KILN_VERIFY_FAILED');
}
