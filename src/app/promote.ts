// `kiln promote`: verify an artifact where it is, re-check today's policy, copy it by digest (blobs, manifest, all
// evidence) to an environment, and record that in the store and as a signed statement attached to the artifact.
import { promises as fsp } from 'node:fs';
import { bundleBytes, bundlePredicate, signStatement } from '../attest/bundle.js';
import { evidencePaths } from '../attest/evidence.js';
import { type Signer, verifyBundle } from '../attest/index.js';
import { makeStatement } from '../attest/statement.js';
import { verifyRequiredEvidence } from '../attest/verify-evidence.js';
import type { EnvironmentConfig, PolicyConfig } from '../config/index.js';
import { type Digest, sha256Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import { canonicalJson, isRecord } from '../core/json.js';
import { isoSeconds } from '../core/time.js';
import { decide } from '../policy/gate.js';
import { copyArtifact, tagArtifact } from '../registry/copy.js';
import { fetchArtifact } from '../registry/fetch.js';
import { EMPTY_JSON, evidenceManifest } from '../registry/manifest.js';
import { recordReferrers, referrerDescriptor } from '../registry/referrers.js';
import type { RegistryClient } from '../registry/remote/types.js';
import { registrySource } from '../registry/sources.js';
import { OCI_MANIFEST } from '../registry/types.js';
import { parseManifest } from '../registry/validate.js';
import { readVexDocuments, scanBom } from '../scan/database.js';
import { promotionsOf, recordPromotion, type Store } from '../store/index.js';

/** predicateType of Kiln's promotion statement. */
export const PROMOTION_PREDICATE = 'https://kiln.dev/promotion/v1';

/** Everything a promotion needs; clients and the signer come from the CLI. */
export interface PromoteInput {
  readonly source: { readonly client: RegistryClient; readonly repository: string; readonly reference: string };
  readonly environment: {
    readonly name: string;
    readonly config: EnvironmentConfig;
    readonly client: RegistryClient;
    readonly repository: string;
  };
  readonly project: string;
  readonly policy: PolicyConfig;
  /** Reads a project file (the policy's VEX documents). */
  readonly readProjectFile: (relPath: string) => Promise<Buffer>;
  readonly store: Store;
  readonly signer: Signer;
  /** The key the artifact's evidence must verify with. */
  readonly trustedKeyPem: string;
  readonly workDir: string;
  readonly now: () => Date;
  readonly emit: (message: string) => void;
}

/** What was promoted where. */
export interface PromotionResult {
  readonly digest: Digest;
  readonly from: string;
  readonly to: string;
  readonly tag: string;
  readonly statement: Digest;
}

/** Verifies, re-checks the policy, copies, signs and records; refuses with the reason at the first failure. */
export async function promote(input: PromoteInput): Promise<PromotionResult> {
  const { source, environment: env } = input;
  const tag = env.config.tag ?? env.name;
  const fetched = await fetchArtifact(source.client, source.repository, source.reference, input.workDir);
  const from = `${source.client.registry}/${source.repository}@${fetched.digest}`;
  input.emit(`verifying ${from}`);
  await assertVerified(input, fetched.path, from);
  if (env.config.after) await assertPromotedBefore(input.store, fetched.digest, env.config.after, from, env.name);
  input.emit(`re-checking the policy against today's vulnerability data`);
  await assertPolicyPasses(input, fetched.path, from);

  input.emit(`copying ${from} to ${env.client.registry}/${env.repository}:${tag}`);
  // Copied untagged: the environment's tag moves last, once the promotion is signed, attached and recorded, so a
  // failure on the way leaves the environment running what the store says it runs.
  const copied = await copyArtifact(
    registrySource(source.client, source.repository),
    env.client,
    env.repository,
    fetched.digest,
    { tags: [], mutable: [] },
    { requireEvidence: fetched.evidenceManifests },
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

/** Provenance and the required evidence (SBOM, scan, a PASSED decision) verify with the trusted key. */
async function assertVerified(input: PromoteInput, artifact: string, from: string): Promise<void> {
  const paths = evidencePaths(artifact);
  const bundleJson = await fsp.readFile(paths.provenance, 'utf8').catch(() => '');
  const report = await verifyBundle({ bundleJson, artifact: { path: artifact }, publicKeyPem: input.trustedKeyPem });
  const more = await verifyRequiredEvidence({
    artifact,
    require: ['sbom', 'vulns', 'policy'],
    publicKeyPem: input.trustedKeyPem,
  });
  const failed = [...report.checks, ...more].filter((c) => !c.ok);
  if (failed.length > 0) {
    throw new KilnError(
      'E_VERIFY_FAILED',
      `promotion refused: ${from} does not verify:\n${failed.map((c) => `  ✗ ${c.check}: ${c.message}`).join('\n')}`,
      { hint: 'promote only what Kiln built and published, with its evidence, signed by the trusted key (--key)' },
    );
  }
}

async function assertPromotedBefore(store: Store, digest: Digest, after: string, from: string, env: string) {
  const history = await promotionsOf(store, digest);
  if (history.some((p) => p.environment === after)) return;
  throw new KilnError('E_VERIFY_FAILED', `promotion refused: ${from} was never promoted to ${after}`, {
    hint: `environment ${env} comes after ${after} (kiln.yaml environments.${env}.after): kiln promote ${from} --to ${after} first`,
  });
}

/** The signed SBOM scanned against today's data and judged by today's policy, as the gate does at build time. */
async function assertPolicyPasses(input: PromoteInput, artifact: string, from: string): Promise<void> {
  const paths = evidencePaths(artifact);
  const sbom = bundlePredicate(await fsp.readFile(paths['sbom-attestation'], 'utf8'));
  const provenance = bundlePredicate(await fsp.readFile(paths.provenance, 'utf8'));
  const [scan, vex] = await Promise.all([
    scanBom(input.store, sbom, `the SBOM of ${from}`),
    readVexDocuments(input.policy, input.readProjectFile),
  ]);
  const runner = pick(provenance, ['buildDefinition', 'internalParameters', 'runner']);
  const network = pick(provenance, ['buildDefinition', 'externalParameters', 'networkSteps']);
  const hermetic = isRecord(runner) && runner.hermetic === true && Array.isArray(network) && network.length === 0;
  const decision = decide({
    policy: input.policy,
    scan: scan.result,
    graph: scan.graph,
    vex,
    today: isoSeconds(input.now()).slice(0, 10),
    evidence: {
      sbom: true,
      signed: true,
      hermetic: {
        ok: hermetic,
        why: hermetic ? '' : 'its provenance records a runner or steps that were not sandboxed',
      },
      vulnerabilityRecords: scan.database.records,
    },
  });
  for (const warning of decision.warnings) input.emit(`warning: ${warning}`);
  if (decision.verdict === 'block') {
    const lines = decision.violations.map((v) => `  ${v.message}`).join('\n');
    throw new KilnError('E_POLICY_BLOCKED', `promotion refused: today's policy blocks ${from}:\n${lines}`, {
      hint: 'rebuild with fixed dependencies, or add a policy.exceptions entry (id, reason, expires) to kiln.yaml',
      details: { violations: decision.violations },
    });
  }
}

/** Signs the promotion statement and attaches it to the artifact in the environment's repository. */
async function attachPromotion(
  input: PromoteInput,
  fetched: { digest: Digest; path: string },
  at: { from: string; to: string; tag: string; promotedAt: string; copied: Digest },
): Promise<Digest> {
  const { environment: env } = input;
  const fileDigest = sha256Digest(await fsp.readFile(fetched.path));
  const name = fetched.path.split('/').pop() ?? 'artifact';
  const statement = makeStatement([{ name, digest: fileDigest }], PROMOTION_PREDICATE, {
    environment: env.name,
    from: at.from,
    to: at.to,
    artifact: { manifestDigest: fetched.digest },
    promotedOn: at.promotedAt,
    promoter: { keyHint: input.signer.keyHint },
  });
  const bundle = bundleBytes(await signStatement(statement, input.signer));
  const layer = {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    digest: sha256Digest(bundle),
    size: bundle.length,
  };
  const empty = Buffer.from(EMPTY_JSON);
  await env.client.putBlob(env.repository, { digest: layer.digest, size: layer.size, source: bundle });
  await env.client.putBlob(env.repository, { digest: sha256Digest(empty), size: empty.length, source: empty });
  const artifactBytes = (await env.client.getManifest(env.repository, fetched.digest))?.bytes ?? Buffer.alloc(0);
  const manifest = evidenceManifest({
    subject: { mediaType: OCI_MANIFEST, digest: fetched.digest, size: artifactBytes.length },
    layer: { ...layer },
    title: `${name}.promotion-${env.name}.sigstore.json`,
    artifactType: layer.mediaType,
    annotations: { 'dev.kiln.predicate-type': PROMOTION_PREDICATE, 'org.opencontainers.image.created': at.promotedAt },
  });
  const bytes = Buffer.from(canonicalJson(manifest), 'utf8');
  const digest = await env.client.putManifest(env.repository, sha256Digest(bytes), bytes, OCI_MANIFEST);
  await recordReferrers(env.client, env.repository, fetched.digest, [
    referrerDescriptor(bytes, parseManifest(bytes.toString('utf8'), 'the promotion manifest')),
  ]);
  return digest;
}

function pick(value: unknown, path: readonly string[]): unknown {
  let at = value;
  for (const key of path) at = isRecord(at) ? at[key] : undefined;
  return at;
}
