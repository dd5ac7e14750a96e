// `kiln plan`: every step's action key and what the cache would do, without running anything. A step after one
// that must run has no key yet (its inputs include outputs that do not exist yet).

import { join } from 'node:path';
import { signerSeal } from '../attest/seal.js';
import { treeDigest } from '../cache/index.js';
import type { Digest } from '../core/digest.js';
import { explainMiss } from '../plan/explain.js';
import { stepKey } from '../plan/step-key.js';
import { createWorkDir, removeWorkDir, workRoot } from '../platform/workdir.js';
import { identifyBuilder, resolveBuilder } from '../sandbox/identity.js';
import { buildWorld } from './build/build.js';
import { newBuildId } from './build/id.js';
import { prepareBuild } from './build/prepare.js';
import { setupSteps } from './build/setup.js';
import type { BuildRequest } from './build/types.js';
import type { KilnPorts } from './ports.js';

/** One step of the plan. */
export interface PlannedStepStatus {
  readonly name: string;
  readonly needs: readonly string[];
  readonly key: string | null;
  readonly cache: 'hit' | 'miss' | 'after-miss';
  readonly producedBy: string | null;
  readonly explanation: readonly string[];
}

/** The plan of a build of `request`: what each step's key is and whether the cache would replay it, frozen. */
export async function planBuild(ports: KilnPorts, request: Omit<BuildRequest, 'force'>) {
  const world = buildWorld(ports, request);
  const prepared = await prepareBuild(request, ports);
  const { source, config } = prepared;
  const store = await ports.store();
  const workDir = join(await workRoot(ports.home, ports.env), `plan-${newBuildId(ports.now())}`);
  try {
    await createWorkDir(workDir);
    const { runner, builder } = await resolveBuilder(
      { sandbox: config.sandbox, projectPath: prepared.projectPath },
      world.runner,
      (extra) =>
        identifyBuilder(
          world.runner,
          ports.env,
          { paths: ports.home, seal: signerSeal(prepared.signing.signer) },
          extra,
        ),
      (message) => ports.events({ kind: 'notice', message }),
      ports.home.home,
    );
    const { view, steps, cache, previous } = await setupSteps(world, prepared, { workDir, runner, builder, store });
    const outputs = new Map<string, Digest>();
    const planned: PlannedStepStatus[] = [];
    for (const step of steps) {
      const waiting = step.needs.filter((n) => !outputs.has(n));
      if (waiting.length > 0) {
        const explanation = [`runs after ${waiting.join(', ')}, which must run first`];
        planned.push({
          name: step.name,
          needs: step.needs,
          key: null,
          cache: 'after-miss',
          producedBy: null,
          explanation,
        });
        continue;
      }
      const upstream = Object.fromEntries(step.needs.map((n) => [n, outputs.get(n) as Digest]));
      const { key, ingredients } = await stepKey(step, upstream, view.inputs, builder.digest);
      const hit = await cache.lookup(key);
      if (hit) outputs.set(step.name, treeDigest(hit.tree));
      planned.push({
        name: step.name,
        needs: step.needs,
        key,
        cache: hit ? 'hit' : 'miss',
        producedBy: hit?.entry.producedBy.buildId ?? null,
        explanation: hit ? [] : explainMiss(await previous(step.name), ingredients).map((r) => r.detail),
      });
    }
    return Object.freeze({
      project: config.name,
      commit: source.commit,
      runner: runner.kind,
      builder: builder.digest,
      steps: planned,
    });
  } finally {
    await removeWorkDir(workDir);
  }
}
