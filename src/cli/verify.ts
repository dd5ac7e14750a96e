// `kiln verify FILE`: offline check of an artifact against its Sigstore bundle, a public key and expectations.
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { toReport, verifyBundle } from '../attest/index.js';
import { REQUIRABLE, verifyRequiredEvidence } from '../attest/verify-evidence.js';
import { KilnError } from '../core/errors.js';
import { kilnPaths } from '../core/home.js';
import { pathExists } from '../platform/fsutil.js';
import { fetchArtifact } from '../registry/fetch.js';
import { parseRegistryRef } from '../registry/remote/index.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println } from './context.js';
import { registryClient } from './registry.js';

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
  const { values, positionals } = parseVerifyArgs(argv);
  if (values.help) {
    println(ctx.stdout, HELP);
    return 0;
  }
  const target = positionals[0];
  if (!target) throw new KilnError('E_USAGE', 'kiln verify: missing FILE', { hint: HELP });
  if (!target.startsWith('oci://')) return verifyFile(ctx, values, resolve(ctx.cwd, target), undefined);
  // From a registry: fetched into a private temp dir, verified as files, and named by registry/repo@digest.
  const ref = parseRegistryRef(target);
  const client = await registryClient(ctx, ref.registry, Boolean(values['insecure-registry']));
  const dir = await fsp.mkdtemp(join(tmpdir(), 'kiln-verify-'));
  try {
    const fetched = await fetchArtifact(client, ref.repository, ref.digest ?? ref.tag ?? 'latest', dir);
    const shown = `${ref.registry}/${ref.repository}@${fetched.digest}`;
    if (!values.json)
      println(
        ctx.stderr,
        `kiln: fetched ${shown} and ${fetched.evidence.length} evidence file(s) (referrers: ${fetched.referrers})`,
      );
    return await verifyFile(ctx, { ...values, bundle: undefined }, fetched.path, shown);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

type VerifyValues = ReturnType<typeof parseVerifyArgs>['values'];

function parseVerifyArgs(argv: string[]) {
  return parseCommandArgs(
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
}

/** Verifies a file on disk against its bundle and the required evidence beside it; `shown` names it in output. */
async function verifyFile(ctx: CliContext, values: VerifyValues, artifact: string, shown: string | undefined) {
  const file = artifact;
  const bundlePath = resolve(ctx.cwd, values.bundle ?? `${file}.sigstore.json`);
  const bundleJson = await readText(
    bundlePath,
    'bundle',
    'pass --bundle with the .sigstore.json written next to the artifact',
  );
  let keyPath = values.key ? resolve(ctx.cwd, values.key) : undefined;
  if (!keyPath) {
    const local = kilnPaths(ctx.kilnHome).defaultPub;
    if (await pathExists(local)) {
      keyPath = local;
      if (!values.json) println(ctx.stderr, `kiln: no --key given; using the local key ${local}`);
    }
  }
  const publicKeyPem = keyPath
    ? await readText(keyPath, 'public key', 'pass --key with the signer’s .pub file')
    : undefined;
  const trustedRootJson = values['trusted-root']
    ? await readText(resolve(ctx.cwd, values['trusted-root']), 'trusted root', 'pass a Sigstore trusted_root.json')
    : undefined;
  let report = await verifyBundle({
    bundleJson,
    artifact: { path: artifact },
    ...(publicKeyPem === undefined ? {} : { publicKeyPem }),
    ...(trustedRootJson === undefined ? {} : { trustedRootJson }),
    expect: {
      ...(values['predicate-type'] ? { predicateType: values['predicate-type'] } : {}),
      ...(values['builder-id'] ? { builderId: values['builder-id'] } : {}),
      ...(values['source-commit'] ? { sourceCommit: values['source-commit'] } : {}),
      ...(values['source-repo'] ? { sourceRepo: values['source-repo'] } : {}),
    },
  });
  const required = (values.require ?? '').split(',').filter(Boolean);
  const unknown = required.filter((name) => !Object.hasOwn(REQUIRABLE, name));
  if (unknown.length > 0) {
    throw new KilnError('E_USAGE', `kiln verify: cannot --require "${unknown.join(', ')}"`, {
      hint: `choose from ${Object.keys(REQUIRABLE).join(', ')}`,
    });
  }
  if (required.length > 0) {
    const more = await verifyRequiredEvidence({
      artifact,
      require: required,
      ...(publicKeyPem === undefined ? {} : { publicKeyPem }),
      ...(trustedRootJson === undefined ? {} : { trustedRootJson }),
    });
    report = toReport([...report.checks, ...more]);
  }
  if (values.json) {
    const named = shown ?? artifact;
    println(
      ctx.stdout,
      JSON.stringify({ artifact: named, bundle: bundlePath, key: keyPath ?? null, ...report }, null, 2),
    );
  } else {
    for (const c of report.checks) println(ctx.stdout, `${c.ok ? '✓' : '✗'} ${c.check}: ${c.message}`);
    println(ctx.stdout, report.ok ? `verified: ${shown ?? artifact}` : `NOT verified: ${shown ?? artifact}`);
  }
  return report.ok ? 0 : 3;
}

async function readText(path: string, what: string, hint: string): Promise<string> {
  try {
    return await fsp.readFile(path, 'utf8');
  } catch (cause) {
    throw new KilnError('E_NOT_FOUND', `cannot read the ${what} ${path}: ${(cause as Error).message}`, { cause, hint });
  }
}
