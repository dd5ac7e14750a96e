// A build run by a control-plane worker, in process: its provenance names the control-plane builder, Kiln's version and
// the worker; its record carries the worker; `verify` accepts it unless told to require the local CLI's builder.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONTROL_PLANE_BUILDER_ID, LOCAL_BUILDER_ID } from '../../../src/attest/index.js';
import { type Harness, harness } from '../../helpers/harness.js';
import { demoProject } from '../../helpers/project.js';
import { makeRepo } from '../../helpers/repo.js';
import { tempDir } from '../../helpers/tmp.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.kiln.close();
  h = undefined;
});

const WORKER = { id: 'w-test-1', host: 'builder-3.example', labels: { zone: 'b', arch: 'x64' } };

/** The provenance predicate signed in the bundle beside an artifact. */
function provenanceOf(artifact: string) {
  const bundle = JSON.parse(readFileSync(`${artifact}.sigstore.json`, 'utf8'));
  return JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')).predicate;
}

describe('a build run by a control-plane worker', () => {
  it('names the control-plane builder and the worker in provenance and the record; a local build names neither', async () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    makeRepo(repo, demoProject());
    h = harness({ cwd: root });

    const local = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host' });
    const localArtifact = local.artifacts[0]?.path as string;
    const localProvenance = provenanceOf(localArtifact);
    expect(localProvenance.runDetails.builder).toEqual({ id: LOCAL_BUILDER_ID });
    expect(localProvenance.buildDefinition.internalParameters.worker).toBeUndefined();
    expect((await h.kiln.showBuild(local.buildId)).build).toMatchObject({
      builder_id: LOCAL_BUILDER_ID,
      kiln_version: '0.0.0-test',
      worker_id: null,
      worker_host: null,
      worker_labels: null,
    });

    // The same commit on a worker is built anew: an identical local build does not name the control-plane builder.
    const remote = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host', worker: WORKER });
    expect(remote.upToDate).toBe(false);
    expect(remote.buildId).not.toBe(local.buildId);
    const artifact = remote.artifacts[0]?.path as string;
    const provenance = provenanceOf(artifact);
    expect(provenance.runDetails.builder).toEqual({ id: CONTROL_PLANE_BUILDER_ID, version: { kiln: '0.0.0-test' } });
    expect(provenance.buildDefinition.internalParameters.worker).toEqual(WORKER);
    const row = (await h.kiln.showBuild(remote.buildId)).build;
    expect(row).toMatchObject({
      builder_id: CONTROL_PLANE_BUILDER_ID,
      kiln_version: '0.0.0-test',
      worker_id: 'w-test-1',
      worker_host: 'builder-3.example',
    });
    expect(JSON.parse(row.worker_labels ?? 'null')).toEqual(WORKER.labels);
    // And a second worker build of it is handed back: the worker's builds reuse each other.
    const again = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host', worker: WORKER });
    expect(again).toMatchObject({ buildId: remote.buildId, upToDate: true });

    // A verifier that trusts Kiln accepts both builders; one that requires the local CLI's refuses the worker's.
    const key = join(h.home, 'test.pub');
    writeFileSync(key, h.signer.publicKeyPem);
    const verify = (builderId?: string) =>
      h?.kiln.verify({
        target: artifact,
        key,
        expect: builderId === undefined ? {} : { builderId },
        require: [],
        insecure: false,
      });
    expect((await verify())?.ok).toBe(true);
    expect((await verify(CONTROL_PLANE_BUILDER_ID))?.ok).toBe(true);
    const refused = await verify(LOCAL_BUILDER_ID);
    expect(refused?.ok).toBe(false);
    expect(refused?.checks.find((c) => c.check === 'builder-id')).toMatchObject({
      ok: false,
      expected: LOCAL_BUILDER_ID,
      actual: CONTROL_PLANE_BUILDER_ID,
    });
  });
});
