// `kiln promote`: verify an artifact where it is, re-check today's policy, copy it by digest (blobs, manifest, all
// evidence) to an environment, and record that in the store and as a signed statement attached to the artifact.
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfigFile } from '../../config/index.js';
import { KilnError } from '../../core/errors.js';
import { copyArtifact, tagArtifact } from '../../registry/copy.js';
import { type FetchedArtifact, fetchArtifact } from '../../registry/fetch.js';
import { parseRegistryRef } from '../../registry/remote/index.js';
import { registrySource } from '../../registry/sources.js';
import { recordPromotion } from '../../store/index.js';
import type { KilnPorts } from '../ports.js';
import { attachPromotion } from './attach.js';
import { assertPolicyPasses, assertPromotedBefore, assertVerified } from './checks.js';
import type { PromoteInput, PromotionResult } from './types.js';

/** What `kiln promote` is asked. Paths are relative to the caller's directory. */
export interface PromoteRequest {
  /** `REGISTRY/REPO@sha256:…` or `REGISTRY/REPO:TAG`. */
  readonly ref: string;
  /** An environment of the project's kiln.yaml. */
  readonly environment: string;
  /** The project directory whose kiln.yaml names the environment and the policy. */
  readonly projectPath: string;
  /** The key to sign the promotion with (else as a build resolves it). */
  readonly key?: string | undefined;
  /** The public key the evidence must verify with (default: the signing key's own). */
  readonly trustedKey?: string | undefined;
  readonly insecure: boolean;
}

/** Promotes `request.ref` to `request.environment`, or refuses with the reason. */
export async function promote(
  ports: Pick<KilnPorts, 'cwd' | 'store' | 'signer' | 'registries' | 'now' | 'events'>,
  request: PromoteRequest,
): Promise<PromotionResult> {
  const projectPath = resolve(ports.cwd, request.projectPath);
  const { config } = await loadConfigFile(join(projectPath, 'kiln.yaml'));
  const envConfig = config.environments[request.environment];
  if (!envConfig) {
    const known = Object.keys(config.environments);
    throw new KilnError('KILN_USAGE', `kiln.yaml has no environment "${request.environment}"`, {
      hint: known.length > 0 ? `environments: ${known.join(', ')}` : 'add an environments: section to kiln.yaml',
    });
  }
  const from = parseRegistryRef(request.ref);
  if (!from.digest && !from.tag) {
    throw new KilnError('KILN_USAGE', `kiln promote: ${request.ref} names neither a digest nor a tag`, {
      hint: 'give REGISTRY/REPO@sha256:… (what kiln publish printed) or REGISTRY/REPO:TAG',
    });
  }
  const to = parseRegistryRef(envConfig.repository);
  const { signer } = await ports.signer({ flag: request.key, configKey: config.signing?.key, projectPath });
  const trustedKeyPem = request.trustedKey
    ? await readTrustedKey(resolve(ports.cwd, request.trustedKey))
    : signer.publicKeyPem;
  const workDir = await fsp.mkdtemp(join(tmpdir(), 'kiln-promote-'));
  try {
    return await promoteArtifact({
      source: {
        client: ports.registries(from.registry, { insecure: request.insecure }),
        repository: from.repository,
        reference: from.digest ?? (from.tag as string),
      },
      environment: {
        name: request.environment,
        config: envConfig,
        client: ports.registries(to.registry, { insecure: request.insecure }),
        repository: to.repository,
      },
      project: config.name,
      policy: config.policy,
      readProjectFile: (path) => fsp.readFile(join(projectPath, path)),
      store: await ports.store(),
      signer,
      trustedKeyPem,
      workDir,
      now: ports.now,
      emit: ports.events,
    });
  } finally {
    await fsp.rm(workDir, { recursive: true, force: true });
  }
}

/** Verifies, re-checks the policy, copies, signs and records; refuses with the reason at the first failure. */
async function promoteArtifact(input: PromoteInput): Promise<PromotionResult> {
  const { source, environment: env } = input;
  const tag = env.config.tag ?? env.name;
  const fetched = await verifiedSet(input);
  const from = `${source.client.registry}/${source.repository}@${fetched.digest}`;
  if (env.config.after) await assertPromotedBefore(input.store, fetched.digest, env.config.after, from, env.name);
  input.emit({ kind: 'notice', message: `re-checking the policy against today's vulnerability data` });
  await assertPolicyPasses(input, fetched.path, from);

  input.emit({ kind: 'notice', message: `copying ${from} to ${env.client.registry}/${env.repository}:${tag}` });
  // Copied untagged: the environment's tag moves last, once the promotion is signed, attached and recorded, so a
  // failure on the way leaves the environment running what the store says it runs.
  const copied = await copyArtifact(
    registrySource(source.client, source.repository),
    env.client,
    env.repository,
    fetched.digest,
    { tags: [], mutable: [] },
    { evidence: fetched.evidenceManifests },
  );
  const to = `${env.client.registry}/${env.repository}:${tag}@${fetched.digest}`;
  const promotedAt = input.now().toISOString(); // milliseconds: the latest promotion of an environment is what it runs
  const statement = await attachPromotion(input, fetched, { from, to, tag, promotedAt, copied: copied.digest });
  await recordPromotion(input.store, {
    id: `${promotedAt}-${statement.slice(7, 19)}`,
    project: input.project,
    artifact_name: fetched.path.split('/').pop() ?? '',
    manifest_digest: fetched.digest,
    environment: env.name,
    from_ref: from,
    to_ref: to,
    promoted_at: promotedAt,
    key_hint: input.signer.keyHint,
    statement_digest: statement,
  });
  const artifactBytes = await registrySource(env.client, env.repository).manifest(fetched.digest);
  await tagArtifact(env.client, env.repository, fetched.digest, artifactBytes, { tags: [tag], mutable: [tag] });
  return { digest: fetched.digest, from, to, tag, statement };
}

/** The artifact with the first of its evidence sets in the registry that verifies; refused with the first set's why. */
async function verifiedSet(input: PromoteInput): Promise<FetchedArtifact> {
  const { source } = input;
  const fetched = await fetchArtifact(source.client, source.repository, source.reference, input.workDir);
  const from = `${source.client.registry}/${source.repository}@${fetched.digest}`;
  for (const why of fetched.skipped) input.emit({ kind: 'warning', message: `${from}: left out ${why}` });
  input.emit({ kind: 'notice', message: `verifying ${from}` });
  let refusal: unknown;
  for (const set of fetched.sets) {
    try {
      await assertVerified(input, set.path, from);
      return set;
    } catch (err) {
      refusal ??= err;
    }
  }
  throw refusal;
}

async function readTrustedKey(path: string): Promise<string> {
  return fsp.readFile(path, 'utf8').catch((cause: unknown) => {
    throw new KilnError('KILN_KEY_NOT_FOUND', `cannot read the trusted key ${path}: ${(cause as Error).message}`, {
      cause,
      hint: 'pass --trusted-key the public key (.pub) the artifact’s evidence was signed with',
    });
  });
}
