import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONTROL_PLANE_BUILDER_ID,
  isolationInProvenance,
  KILN_BUILD_TYPE,
  LOCAL_BUILDER_ID,
  provenancePredicate,
} from '../../../src/attest/index.js';
import { sha256Digest, sha256Hex } from '../../../src/core/digest.js';
import { canonicalJson } from '../../../src/core/json.js';
import { COMMIT, provenanceInput, REPO, VECTORS } from '../../helpers/attest.js';

// The sha256 of the canonical bytes (what is signed) of provenanceInput()'s predicate, recorded before a build could
// name a worker: a local build's provenance must stay exactly what it was.
const LOCAL_GOLDEN_SHA256 = '0924be66468ab95daea6db1542efc3e8ff5e555932ef884455f26e808c875163';

describe('provenancePredicate', () => {
  it('matches the golden SLSA v1 predicate', () => {
    expect(provenancePredicate(provenanceInput())).toEqual({
      buildDefinition: {
        buildType: KILN_BUILD_TYPE,
        externalParameters: {
          source: { uri: `git+${REPO}`, digest: { gitCommit: COMMIT }, subdir: 'services/api', dirty: false },
          config: { path: 'kiln.yaml', digest: { sha256: sha256Hex('config') } },
          networkSteps: [{ name: 'install', run: 'npm ci' }],
        },
        // Sandboxed, but `install` had network: not hermetic, exactly as the policy's hermetic rule judges it.
        internalParameters: {
          runner: { kind: 'bubblewrap' },
          sandboxed: true,
          networkIsolated: false,
          hermetic: false,
        },
        resolvedDependencies: [
          { uri: `git+${REPO}@${COMMIT}`, digest: { gitCommit: COMMIT } },
          { uri: 'Cargo.lock', digest: { sha256: sha256Hex('cargo') } },
          { uri: 'services/api/package-lock.json', digest: { sha256: sha256Hex('lock') } },
          { uri: 'pkg:generic/bash@5.2' },
          { uri: 'pkg:generic/node@20.20.2', digest: { sha256: sha256Hex('node') } },
        ],
      },
      runDetails: {
        builder: { id: LOCAL_BUILDER_ID },
        metadata: { invocationId: 'build-42', startedOn: '2026-01-02T03:04:05Z', finishedOn: '2026-01-02T03:09:00Z' },
        byproducts: [
          {
            name: 'step:install',
            uri: 'kiln:step/install/outputs',
            digest: { sha256: sha256Digest('modules').slice(7) },
            annotations: { cache: 'hit', producedBy: 'build-41' },
          },
          {
            name: 'step:build',
            uri: 'kiln:step/build/outputs',
            digest: { sha256: sha256Digest('dist').slice(7) },
            annotations: { cache: 'miss' },
          },
        ],
      },
    });
  });

  it('records a build hermetic only when it is sandboxed and no step had network, and reads v1 predicates too', () => {
    const offline = provenanceInput();
    offline.steps = offline.steps.map((st) => ({ ...st, network: false }));
    const isolated = provenancePredicate(offline);
    expect(isolated.buildDefinition.internalParameters).toMatchObject({ sandboxed: true, hermetic: true });
    expect(isolationInProvenance(isolated)).toEqual({
      isolation: { sandboxed: true, networkIsolated: true, hermetic: true },
      why: '',
    });
    const host = provenancePredicate({ ...offline, runner: { kind: 'host', sandboxed: false } });
    expect(isolationInProvenance(host)).toEqual({
      isolation: { sandboxed: false, networkIsolated: true, hermetic: false },
      why: 'steps ran with the host runner, outside the sandbox',
    });
    expect(isolationInProvenance(provenancePredicate(provenanceInput())).why).toBe(
      'step(s) install had network access (network: true)',
    );
    // kiln-build/v1: `runner.hermetic` meant sandboxed; the network steps decide the rest.
    const v1 = (network: { name: string }[]) => ({
      buildDefinition: {
        externalParameters: { networkSteps: network },
        internalParameters: { runner: { kind: 'bubblewrap', hermetic: true } },
      },
    });
    expect(isolationInProvenance(v1([])).isolation.hermetic).toBe(true);
    expect(isolationInProvenance(v1([{ name: 'deps' }])).isolation).toEqual({
      sandboxed: true,
      networkIsolated: false,
      hermetic: false,
    });
    expect(isolationInProvenance({}).isolation.hermetic).toBe(false);
  });

  it('is frozen, deterministic and distinguishes local from control-plane builds', () => {
    const p = provenancePredicate(provenanceInput());
    expect(Object.isFrozen(p.buildDefinition.resolvedDependencies)).toBe(true);
    const reordered = provenanceInput();
    reordered.lockfiles.reverse();
    reordered.toolchain.reverse();
    expect(canonicalJson(provenancePredicate(reordered))).toBe(canonicalJson(p));
    const cp = provenancePredicate(provenanceInput({ builderId: CONTROL_PLANE_BUILDER_ID }));
    expect(cp.runDetails.builder.id).not.toBe(p.runDetails.builder.id);
  });

  it("keeps a local build's predicate byte for byte what it was before control-plane workers", () => {
    expect(sha256Hex(canonicalJson(provenancePredicate(provenanceInput())))).toBe(LOCAL_GOLDEN_SHA256);
  });

  it("names a worker's build: the control-plane builder, Kiln's version, and the worker with its labels", () => {
    const worker = { id: 'w-7', host: 'builder-3.example', labels: { zone: 'b', arch: 'x64' } };
    const local = provenancePredicate(provenanceInput());
    const p = provenancePredicate(
      provenanceInput({ builderId: CONTROL_PLANE_BUILDER_ID, builderVersion: { kiln: '0.1.0' }, worker }),
    );
    expect(p.runDetails.builder).toEqual({ id: CONTROL_PLANE_BUILDER_ID, version: { kiln: '0.1.0' } });
    expect(p.buildDefinition.internalParameters.worker).toEqual(worker);
    // Labels in name order, so the same worker always gives the same bytes.
    expect(Object.keys(p.buildDefinition.internalParameters.worker?.labels ?? {})).toEqual(['arch', 'zone']);
    // Nothing else differs from the local build's predicate.
    const { worker: _w, ...internal } = p.buildDefinition.internalParameters;
    expect({ ...p.buildDefinition, internalParameters: internal }).toEqual(local.buildDefinition);
    expect(p.runDetails.metadata).toEqual(local.runDetails.metadata);
    expect(p.runDetails.byproducts).toEqual(local.runDetails.byproducts);
    expect(local.runDetails.builder).toEqual({ id: LOCAL_BUILDER_ID });
    expect('worker' in local.buildDefinition.internalParameters).toBe(false);
  });

  it('has the same top-level shape as the SLSA v1 example', async () => {
    const example = JSON.parse(
      await readFile(join(VECTORS, 'slsa/github-actions-buildtypes-workflow-v1-example.json'), 'utf8'),
    );
    const p = provenancePredicate(provenanceInput());
    const keys = (o: object) => Object.keys(o).sort();
    expect(keys(p)).toEqual(keys(example.predicate));
    expect(keys(p.buildDefinition)).toEqual(keys(example.predicate.buildDefinition));
    expect(keys(p.runDetails.metadata)).toEqual([...keys(example.predicate.runDetails.metadata), 'finishedOn'].sort());
    for (const dep of p.buildDefinition.resolvedDependencies) {
      expect(typeof dep.uri).toBe('string');
      for (const v of Object.values(dep.digest ?? {})) expect(v).toMatch(/^[0-9a-f]{40,64}$/);
    }
  });

  it('records a dirty tree and rejects malformed inputs', () => {
    const dirty = provenanceInput();
    dirty.source = { ...dirty.source, dirty: true };
    expect(provenancePredicate(dirty).buildDefinition.externalParameters.source.dirty).toBe(true);
    const bad = provenanceInput({ startedOn: 'yesterday' });
    bad.source = { ...bad.source, commit: 'abc' };
    expect(() => provenancePredicate(bad)).toThrow(/source.commit "abc".*startedOn "yesterday"/);
  });
});
