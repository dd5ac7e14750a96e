// `kiln promote REF --to ENV`: verified, re-checked, copied by digest, recorded and attested.
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promote } from '../app/promote.js';
import { resolveSigner } from '../attest/signing-key.js';
import { loadConfigFile } from '../config/index.js';
import { KilnError } from '../core/errors.js';
import { kilnPaths } from '../core/home.js';
import { parseRegistryRef } from '../registry/remote/index.js';
import { openSqliteStore } from '../store/index.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println } from './context.js';
import { REGISTRY_HELP, registryClient } from './registry.js';

const HELP = `usage: kiln promote REGISTRY/REPO@sha256:…|:TAG --to ENV [PATH] [--key FILE] [--trusted-key FILE.pub] [--json]

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
  const [refText, projectArg] = positionals;
  if (!refText || !values.to) throw new KilnError('E_USAGE', 'kiln promote: give REF and --to ENV', { hint: HELP });
  const projectPath = resolve(ctx.cwd, projectArg ?? '.');
  const { config } = await loadConfigFile(join(projectPath, 'kiln.yaml'));
  const envConfig = config.environments[values.to];
  if (!envConfig) {
    const known = Object.keys(config.environments);
    throw new KilnError('E_USAGE', `kiln.yaml has no environment "${values.to}"`, {
      hint: known.length > 0 ? `environments: ${known.join(', ')}` : 'add an environments: section to kiln.yaml',
    });
  }
  const from = parseRegistryRef(refText);
  if (!from.digest && !from.tag) {
    throw new KilnError('E_USAGE', `kiln promote: ${refText} names neither a digest nor a tag`, {
      hint: 'give REGISTRY/REPO@sha256:… (what kiln publish printed) or REGISTRY/REPO:TAG',
    });
  }
  const to = parseRegistryRef(envConfig.repository);
  const insecure = Boolean(values['insecure-registry']);
  const paths = kilnPaths(ctx.kilnHome);
  const { signer } = await resolveSigner({
    keyFlag: values.key,
    keyEnv: ctx.env.KILN_SIGNING_KEY,
    configKey: config.signing?.key,
    projectPath,
    cwd: ctx.cwd,
    paths,
  });
  const trustedKeyPem = values['trusted-key']
    ? await fsp.readFile(resolve(ctx.cwd, values['trusted-key']), 'utf8')
    : signer.publicKeyPem;
  const store = await openSqliteStore(paths.store);
  const workDir = await fsp.mkdtemp(join(tmpdir(), 'kiln-promote-'));
  try {
    const result = await promote({
      source: {
        client: await registryClient(ctx, from.registry, insecure),
        repository: from.repository,
        reference: from.digest ?? (from.tag as string),
      },
      environment: {
        name: values.to,
        config: envConfig,
        client: await registryClient(ctx, to.registry, insecure),
        repository: to.repository,
      },
      project: config.name,
      policy: config.policy,
      readProjectFile: (path) => fsp.readFile(join(projectPath, path)),
      store,
      signer,
      trustedKeyPem,
      workDir,
      now: ctx.now,
      emit: (message) => {
        if (!values.json) println(ctx.stderr, `kiln: ${message}`);
      },
    });
    if (values.json) println(ctx.stdout, JSON.stringify(result, null, 2));
    else println(ctx.stdout, `promoted ${result.from} to ${values.to}: ${result.to}`);
    return 0;
  } finally {
    await fsp.rm(workDir, { recursive: true, force: true });
    await store.close();
  }
}
