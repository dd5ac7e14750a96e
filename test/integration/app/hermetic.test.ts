// "Hermetic" means one thing in provenance and in the policy: every step sandboxed, and none with network.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bundlePredicate } from '../../../src/attest/bundle.js';
import { isKilnError } from '../../../src/core/errors.js';
import { type Harness, harness } from '../../helpers/harness.js';
import { DEMO_KILN_YAML, demoProject } from '../../helpers/project.js';
import { makeRepo } from '../../helpers/repo.js';
import { tempDir } from '../../helpers/tmp.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.kiln.close();
  h = undefined;
});

/** The demo project whose `test` step has network access, with `policy` appended to kiln.yaml. */
function project(policy = '') {
  const root = tempDir();
  const repo = join(root, 'repo');
  const yaml = DEMO_KILN_YAML.replace('    needs: [compile]\n', '    needs: [compile]\n    network: true\n') + policy;
  makeRepo(repo, demoProject({ 'kiln.yaml': yaml }));
  h = harness({ cwd: root });
  return { repo, h };
}

describe('a sandboxed build with a network step', () => {
  it('is recorded as sandboxed but not network-isolated, so not hermetic', async () => {
    const { repo, h } = project();
    const built = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'bubblewrap' });
    const predicate = bundlePredicate(readFileSync(join(repo, 'kiln-out', 'demo.tgz.sigstore.json'), 'utf8'));
    expect(built.status).toBe('succeeded');
    expect(predicate).toMatchObject({
      buildDefinition: {
        externalParameters: { networkSteps: [{ name: 'test' }] },
        internalParameters: {
          runner: { kind: 'bubblewrap' },
          sandboxed: true,
          networkIsolated: false,
          hermetic: false,
        },
      },
    });
  });

  it('is blocked by policy.require: [hermetic], naming the step, with a hint about network, not dependencies', async () => {
    const { repo, h } = project('policy:\n  require: [hermetic]\n');
    const err = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'bubblewrap' }).catch((e) => e);
    expect(isKilnError(err, 'KILN_POLICY_BLOCKED')).toBe(true);
    expect(err.message).toContain('the policy requires a hermetic build: step(s) test had network access');
    expect(err.hint).toContain('none with network: true');
    expect(err.hint).not.toContain('upgrade the named dependencies');
  });
});
