// Which evidence travels and which is checked, against a real docker-registry: a publish copies exactly the build it
// publishes, verify oci:// and promote pick one coherent set (the one a policy decision names) whatever else is
// attached, a hostile referrer is left out without being downloaded, and the policy is judged, not just signed.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveredArtifact } from '../../../src/app/build/deliver.js';
import { bundleBytes, signStatement } from '../../../src/attest/bundle.js';
import { generateKeyPair, loadSigner, type Signer } from '../../../src/attest/index.js';
import { type Statement, statementBytes } from '../../../src/attest/statement.js';
import { type Digest, sha256Digest } from '../../../src/core/digest.js';
import { isKilnError } from '../../../src/core/errors.js';
import { listReferrers, recordReferrers, referrerDescriptor } from '../../../src/registry/referrers.js';
import { createRegistryClient } from '../../../src/registry/remote/index.js';
import { type Harness, harness } from '../../helpers/harness.js';
import { DEBUG_ADVISORY, DEMO_KILN_YAML, demoProject } from '../../helpers/project.js';
import { startRegistry, type TestRegistry } from '../../helpers/registry.js';
import { makeRepo } from '../../helpers/repo.js';
import { fileTempDir, tempDir } from '../../helpers/tmp.js';

const ENVIRONMENTS = ['forced', 'both', 'hostile', 'first', 'second'];

let registry: TestRegistry;
/** Read-only for the tests: one home, two builds of one commit (the second forced), nothing published. */
let fixture: { h: Harness; repo: string; first: Build; forced: Build; key: string };
type Build = { buildId: string; artifact: DeliveredArtifact; evidence: Digest[] };

beforeAll(async () => {
  registry = await startRegistry();
  fixture = await demoBuilds();
}, 60_000);
afterAll(async () => {
  await fixture?.h.kiln.close();
  await registry?.stop();
});

async function demoBuilds() {
  const root = fileTempDir();
  const repo = join(root, 'repo');
  const environments = ENVIRONMENTS.map((e) => `  ${e}:\n    repository: ${registry.host}/env/${e}\n`).join('');
  makeRepo(repo, demoProject({ 'kiln.yaml': `${DEMO_KILN_YAML}environments:\n${environments}` }));
  const h = harness({ cwd: root, home: join(root, 'home') });
  const build = async (force: boolean): Promise<Build> => {
    const built = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host', force });
    const shown = await h.kiln.showBuild(built.buildId);
    const evidence = shown.evidence.map((e) => e.manifest_digest as Digest).sort();
    return { buildId: built.buildId, artifact: built.artifacts[0] as DeliveredArtifact, evidence };
  };
  const first = await build(false);
  const forced = await build(true);
  const key = join(root, 'test.pub');
  writeFileSync(key, h.signer.publicKeyPem);
  return { h, repo, first, forced, key };
}

const client = () => createRegistryClient({ registry: registry.host });
const publishTo = (build: Build, repository: string) =>
  fixture.h.kiln.publish({
    buildId: build.buildId,
    to: `${registry.host}/${repository}`,
    tags: [],
    mutableTags: [],
    insecure: false,
  });
const verifyAll = (ref: string) =>
  fixture.h.kiln.verify({
    target: `oci://${ref}`,
    key: fixture.key,
    expect: {},
    require: ['sbom', 'spdx', 'vulns', 'policy'],
    insecure: false,
  });
const promoteTo = (ref: string, environment: string) =>
  fixture.h.kiln.promote({ ref, environment, projectPath: fixture.repo, insecure: false });
const referrersOf = async (repository: string, digest: string) =>
  (await listReferrers(client(), repository, digest as Digest)).referrers.map((d) => d.digest).sort();

describe('evidence in a registry', () => {
  it('a --force rebuild of a commit makes the same artifact with evidence of its own', () => {
    const { first, forced } = fixture;
    expect(forced.buildId).not.toBe(first.buildId);
    expect(forced.artifact.manifestDigest).toBe(first.artifact.manifestDigest);
    expect(forced.evidence).toHaveLength(7);
    expect(forced.evidence.filter((d) => first.evidence.includes(d))).not.toEqual(forced.evidence);
  });

  it('kiln publish copies exactly the evidence of the build it publishes, and promote copies exactly that', async () => {
    const { forced } = fixture;
    const digest = forced.artifact.manifestDigest;
    const [published] = await publishTo(forced, 'team/forced');
    expect(published?.evidence.map((d) => d.digest).sort()).toEqual(forced.evidence);
    expect(await referrersOf('team/forced', digest)).toEqual(forced.evidence);
    expect((await verifyAll(`${registry.host}/team/forced@${digest}`)).ok).toBe(true);
    await promoteTo(`${registry.host}/team/forced@${digest}`, 'forced');
    const promoted = await referrersOf('env/forced', digest);
    expect(promoted).toHaveLength(8); // the build's 7 and the promotion statement
    expect(promoted.filter((d) => forced.evidence.includes(d))).toEqual(forced.evidence);
  });

  it('verify oci:// and promote use the set a policy decision names when a registry holds two builds’ evidence', async () => {
    const { first, forced, h } = fixture;
    const digest = first.artifact.manifestDigest;
    await publishTo(first, 'team/both');
    await publishTo(forced, 'team/both');
    expect(await referrersOf('team/both', digest)).toEqual(
      [...new Set([...first.evidence, ...forced.evidence])].sort(),
    );
    h.events.length = 0;
    const verified = await verifyAll(`${registry.host}/team/both@${digest}`);
    expect(verified.ok, JSON.stringify(verified.checks.filter((c) => !c.ok))).toBe(true);
    expect(verified.checks.find((c) => c.check === 'policy-result')?.ok).toBe(true);
    // One set was checked, and it verified on the first try.
    expect(h.of('signature-verified').map((e) => e.ok)).toEqual([true, true, true, true, true]);
    await promoteTo(`${registry.host}/team/both@${digest}`, 'both');
    // Exactly one build's evidence (either: they finished in the same second) and the promotion statement.
    const promoted = await referrersOf('env/both', digest);
    expect(promoted).toHaveLength(8);
    const one = promoted.filter((d) => first.evidence.includes(d)).length === 7 ? first : forced;
    expect(promoted.filter((d) => one.evidence.includes(d))).toEqual(one.evidence);
  });

  it('leaves out hostile referrers beside the genuine evidence: never downloads an oversized one, skips a forged decision', async () => {
    const { first, h } = fixture;
    const digest = first.artifact.manifestDigest as Digest;
    const repository = 'team/hostile';
    await publishTo(first, repository);
    const c = client();
    const genuine = (await listReferrers(c, repository, digest)).referrers;
    const policyRef = await manifestNamed(repository, genuine, '.policy.sigstore.json');
    const title = `${basename(first.artifact.path)}.policy.sigstore.json`;
    // 1. A decision declaring a 1 GiB file (the registry only checks that the blob exists).
    const small = Buffer.from('{}\n');
    await c.putBlob(repository, { digest: sha256Digest(small), size: small.length, source: small });
    const huge = {
      ...policyRef.manifest,
      layers: [{ ...policyRef.layer, digest: sha256Digest(small), size: 1 << 30 }],
    };
    // 2. A newer decision naming the genuine files, signed by another key: a coherent set that does not verify.
    const other = loadSigner(generateKeyPair('ecdsa-p256').privateKeyPem, 'another key');
    const genuinePolicy = await c.getBlob(repository, policyRef.layer.digest);
    const forged = await resign(genuinePolicy, other, (p) => ({
      ...p,
      timeVerified: '2999-01-01T00:00:00Z',
    }));
    await c.putBlob(repository, { digest: sha256Digest(forged), size: forged.length, source: forged });
    const newer = {
      ...policyRef.manifest,
      layers: [{ ...policyRef.layer, digest: sha256Digest(forged), size: forged.length }],
    };
    const added = [];
    for (const m of [huge, newer]) {
      const bytes = Buffer.from(JSON.stringify(m));
      await c.putManifest(repository, sha256Digest(bytes), bytes, m.mediaType);
      added.push(referrerDescriptor(bytes, m));
    }
    await recordReferrers(c, repository, digest, added);
    expect(policyRef.layer.annotations?.['org.opencontainers.image.title']).toBe(title);

    h.events.length = 0;
    const verified = await verifyAll(`${registry.host}/${repository}@${digest}`);
    expect(verified.ok, JSON.stringify(verified.checks.filter((c) => !c.ok))).toBe(true);
    const warnings = h.of('warning').map((e) => e.message);
    expect(warnings.some((w) => w.includes(`declares ${1 << 30} bytes, more than evidence may be`))).toBe(true);
    const gets = h.of('registry-request').filter((e) => e.method === 'GET' && e.path.includes('/blobs/'));
    expect(gets.some((e) => e.path.endsWith(sha256Digest(small)))).toBe(false);
    // The forged decision was tried first (it is the newest), failed, and the genuine set then verified.
    expect(
      h
        .of('signature-verified')
        .filter((e) => e.evidence === 'policy')
        .map((e) => e.ok),
    ).toEqual([false, true]);
    await promoteTo(`${registry.host}/${repository}@${digest}`, 'hostile');
    const promoted = await referrersOf('env/hostile', digest);
    expect(promoted.filter((d) => first.evidence.includes(d))).toEqual(first.evidence);
    expect(promoted).toHaveLength(8);
  });

  it('an artifact copied without its evidence fails verification with exit 3 and a hint that fits a registry', async () => {
    const { first } = fixture;
    const digest = first.artifact.manifestDigest as Digest;
    await publishTo(first, 'team/bare-source');
    // Only the artifact's manifest and blobs: what a copy by a tool that knows nothing of referrers makes.
    const c = client();
    const bytes = (await c.getManifest('team/bare-source', digest))?.bytes as Buffer;
    for (const d of [JSON.parse(bytes.toString()).config, ...JSON.parse(bytes.toString()).layers]) {
      await c.putBlob(
        'team/bare',
        { digest: d.digest, size: d.size, source: () => c.getBlob('team/bare-source', d.digest) },
        { mountFrom: 'team/bare-source' },
      );
    }
    await c.putManifest('team/bare', digest, bytes, 'application/vnd.oci.image.manifest.v1+json');
    const err = await verifyAll(`${registry.host}/team/bare@${digest}`).catch((e: unknown) => e);
    expect(isKilnError(err, 'KILN_VERIFY_FAILED'), String(err)).toBe(true);
    const { message, hint } = err as { message: string; hint: string };
    expect(message).toBe(
      `${registry.host}/team/bare@${digest} has no provenance in the registry: no referrer of it is demo.tgz.sigstore.json`,
    );
    expect(hint).toContain(`kiln publish BUILD --to ${registry.host}/team/bare`);
    expect(hint).not.toContain('--bundle');
  });

  it('verify --require policy refuses a decision that says FAILED, though signed by the trusted key', async () => {
    const { first, h } = fixture;
    const dir = tempDir();
    const artifact = join(dir, basename(first.artifact.path));
    copyFileSync(first.artifact.path, artifact);
    for (const file of Object.values(first.artifact.evidence)) copyFileSync(file, join(dir, basename(file)));
    const passed = await h.kiln.verify({
      target: artifact,
      key: fixture.key,
      expect: {},
      require: ['policy'],
      insecure: false,
    });
    expect(passed.ok).toBe(true);
    writeFileSync(
      `${artifact}.policy.sigstore.json`,
      await resign(readFileSync(`${artifact}.policy.sigstore.json`), h.signer, (p) => ({
        ...p,
        verificationResult: 'FAILED',
        verifiedLevels: ['FAILED'],
      })),
    );
    const failed = await h.kiln.verify({
      target: artifact,
      key: fixture.key,
      expect: {},
      require: ['policy'],
      insecure: false,
    });
    expect(failed.ok).toBe(false);
    expect(failed.checks.filter((c) => !c.ok)).toMatchObject([
      { check: 'policy-result', expected: 'PASSED', actual: 'FAILED' },
    ]);
  });
});

describe('kiln promote', () => {
  it('re-checks today’s vulnerability data and policy: a record imported after the build blocks the promotion', async () => {
    // A home of its own: the record imported here must not reach the other tests' store.
    const root = tempDir();
    const repo = join(root, 'repo');
    const environments = ['first', 'second'].map((e) => `  ${e}:\n    repository: ${registry.host}/recheck/${e}\n`);
    makeRepo(repo, demoProject({ 'kiln.yaml': `${DEMO_KILN_YAML}environments:\n${environments.join('')}` }));
    const h = harness({ cwd: root });
    try {
      const built = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host' });
      const [published] = await h.kiln.publish({
        buildId: built.buildId,
        to: `${registry.host}/recheck/app`,
        tags: [],
        mutableTags: [],
        insecure: false,
      });
      const ref = published?.ref as string;
      const promote = (environment: string) => h.kiln.promote({ ref, environment, projectPath: repo, insecure: false });
      await promote('first'); // nothing known against it yet
      const osv = join(root, 'osv');
      mkdirSync(osv);
      writeFileSync(join(osv, `${DEBUG_ADVISORY.id}.json`), JSON.stringify(DEBUG_ADVISORY));
      await h.kiln.importVulnerabilities(osv);
      const err = await promote('second').catch((e: unknown) => e);
      expect(isKilnError(err, 'KILN_POLICY_BLOCKED'), String(err)).toBe(true);
      expect((err as Error).message).toContain('GHSA-kiln-test-dbg1');
      expect(await client().resolve('recheck/second', 'second')).toBeUndefined();
    } finally {
      await h.kiln.close();
    }
  });
});

/** The evidence manifest among `referrers` whose file ends in `suffix` (a policy decision, …), with its layer. */
async function manifestNamed(repository: string, referrers: readonly { digest: Digest }[], suffix: string) {
  for (const ref of referrers) {
    const manifest = JSON.parse(((await client().getManifest(repository, ref.digest))?.bytes ?? '{}').toString());
    const layer = manifest.layers?.[0];
    const title: string = layer?.annotations?.['org.opencontainers.image.title'] ?? '';
    if (title.endsWith(suffix) && !title.endsWith(`.cdx${suffix}`)) return { manifest, layer };
  }
  throw new Error(`no referrer ends in ${suffix}`);
}

/** `bundleBytes` with its predicate changed by `change`, signed again by `signer`: a valid signature. */
async function resign(bundleBytesIn: Buffer, signer: Signer, change: (predicate: Record<string, unknown>) => unknown) {
  const bundle = JSON.parse(bundleBytesIn.toString('utf8'));
  const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')) as Statement;
  const changed = { ...statement, predicate: change(statement.predicate as Record<string, unknown>) } as Statement;
  expect(statementBytes(changed).length).toBeGreaterThan(0);
  return bundleBytes(await signStatement(changed, signer));
}
