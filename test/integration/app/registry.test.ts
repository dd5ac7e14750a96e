// A worker's shape, without editing the pipeline: builds publish to a registry repository instead of the OCI
// layout, through the artifact-target port; kiln publish, verify oci://, promote and scan work from there. Against a
// real docker-registry; every request, the target's own included, shows up as a registry-request event.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Digest } from '../../../src/core/digest.js';
import { isKilnError } from '../../../src/core/errors.js';
import { createRegistryClient } from '../../../src/registry/remote/index.js';
import { registryTarget } from '../../../src/registry/remote/target.js';
import { type Harness, harness } from '../../helpers/harness.js';
import { DEMO_KILN_YAML, demoProject } from '../../helpers/project.js';
import { startRegistry, type TestRegistry } from '../../helpers/registry.js';
import { makeRepo } from '../../helpers/repo.js';
import { tempDir } from '../../helpers/tmp.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => {
  await registry.stop();
});

/** A harness whose builds publish to `<registry>/kiln/builds`, over a demo project with a staging environment. */
function workerLike(): { h: Harness; repo: string } {
  const root = tempDir();
  const repo = join(root, 'repo');
  const environments = `environments:\n  staging:\n    repository: ${registry.host}/team/staging\n`;
  makeRepo(repo, demoProject({ 'kiln.yaml': `${DEMO_KILN_YAML}${environments}` }));
  const h = harness({
    cwd: root,
    overrides: (events) => {
      const client = createRegistryClient({
        registry: registry.host,
        credentials: { kind: 'anonymous' },
        onEvent: events,
      });
      return { artifacts: registryTarget(client, 'kiln/builds') };
    },
  });
  return { h, repo };
}

describe('a registry as the artifact target', () => {
  it('publishes the build there, and verify oci:// finds the artifact with all its evidence', async () => {
    const { h, repo } = workerLike();
    try {
      const built = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host' });
      const manifest = built.artifacts[0]?.manifestDigest as string;
      expect(h.of('stage').find((e) => e.stage === 'publish')?.detail).toBe(`${registry.host}/kiln/builds`);
      const pushed = h
        .of('registry-request')
        .filter((e) => e.method === 'PUT' && e.path.startsWith('/v2/kiln/builds/'));
      // The artifact, the empty config, 7 evidence files and their 8 manifests, the referrers index and the tag.
      expect(pushed.filter((e) => e.path.includes('/manifests/')).length).toBeGreaterThanOrEqual(10);
      expect(pushed.every((e) => e.status === 201)).toBe(true);
      h.events.length = 0;
      const verified = await h.kiln.verify({
        target: `oci://${registry.host}/kiln/builds@${manifest}`,
        key: await publicKeyFile(h),
        expect: { sourceCommit: built.commit },
        require: ['sbom', 'spdx', 'vulns', 'policy'],
        insecure: false,
      });
      expect(verified.ok).toBe(true);
      expect(verified.artifact).toBe(`${registry.host}/kiln/builds@${manifest}`);
      const requests = h.of('registry-request');
      expect(requests.length).toBeGreaterThan(3);
      for (const r of requests) {
        expect(r).toMatchObject({ registry: registry.host, attempt: 1 });
        expect(r.path.startsWith('/v2/')).toBe(true);
      }
      expect(requests.some((r) => r.method === 'GET' && r.status === 200 && r.bytes > 0)).toBe(true);
    } finally {
      await h.kiln.close();
    }
  });

  it('kiln publish copies from there, kiln promote promotes the copy, kiln scan reads its SBOM there', async () => {
    const { h, repo } = workerLike();
    try {
      const built = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host' });
      const [published] = await h.kiln.publish({
        buildId: built.buildId,
        to: `${registry.host}/team/app`,
        tags: ['v1'],
        mutableTags: [],
        insecure: false,
      });
      expect(published?.digest).toBe(built.artifacts[0]?.manifestDigest);
      expect(h.of('artifact-published')).toMatchObject([{ artifact: 'demo', repository: 'team/app' }]);

      h.events.length = 0;
      const promoted = await h.kiln.promote({
        ref: `${registry.host}/team/app:v1`,
        environment: 'staging',
        projectPath: repo,
        insecure: false,
      });
      expect(promoted.to).toBe(`${registry.host}/team/staging:staging@${published?.digest}`);
      expect(h.of('signature-verified').map((e) => [e.context, e.evidence, e.ok])).toEqual([
        ['promote', 'provenance', true],
        ['promote', 'sbom', true],
        ['promote', 'vulns', true],
        ['promote', 'policy', true],
      ]);

      // The delivered SBOM is gone: the scan reads the published one, by its recorded digest.
      rmSync(built.artifacts[0]?.evidence.sbom as string);
      const scanned = await h.kiln.scan({ buildId: built.buildId });
      expect(scanned).toMatchObject({ scanned: 1, unreadable: [], affected: [] });
    } finally {
      await h.kiln.close();
    }
  });

  it('hands back an identical build, restoring its deleted files from the registry, verified', async () => {
    const { h, repo } = workerLike();
    try {
      const built = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host' });
      const artifact = built.artifacts[0];
      const before = readFileSync(artifact?.path as string);
      rmSync(artifact?.path as string);
      rmSync(artifact?.evidence.sbom as string);
      const again = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host' });
      expect(again).toMatchObject({ buildId: built.buildId, upToDate: true });
      expect(readFileSync(artifact?.path as string)).toEqual(before);
      expect(sha256Digest(readFileSync(artifact?.evidence.sbom as string))).toBe(
        (await h.kiln.showBuild(built.buildId)).evidence.find((e) => e.kind === 'sbom')?.digest,
      );
    } finally {
      await h.kiln.close();
    }
  });

  it('leaves retention of a registry target to the registry: kiln gc says so', async () => {
    const { h, repo } = workerLike();
    try {
      const err = await h.kiln.gc({ projectPath: repo, apply: false, localOnly: false }).catch((e) => e);
      expect(isKilnError(err, 'KILN_USAGE')).toBe(true);
      expect(err.message).toContain(`not to ${registry.host}/kiln/builds`);
    } finally {
      await h.kiln.close();
    }
  });
});

async function publicKeyFile(h: Harness): Promise<string> {
  const path = join(h.home, 'test.pub');
  writeFileSync(path, h.signer.publicKeyPem);
  return path;
}
