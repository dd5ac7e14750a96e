// `kiln plan`: every step's action key and what the cache would do, without running anything. A step after one
// that must run has no key yet (its inputs include outputs that do not exist yet).
import { join } from 'node:path';
import { treeDigest } from '../cache/index.js';
import type { Digest } from '../core/digest.js';
import { kilnPaths } from '../core/home.js';
import { stepKey } from '../execute/run-step.js';
import { explainMiss } from '../plan/explain.js';
import { createWorkDir, removeWorkDir, workRoot } from '../platform/workdir.js';
import { identifyBuilder, resolveBuilder } from '../sandbox/identity.js';
import { openSqliteStore } from '../store/index.js';
import { type BuildEnvironment, type BuildRequest, closeQuietly, newBuildId } from './build/build.js';
import { prepareBuild } from './build/prepare.js';
import { setupSteps } from './build/setup.js';

/** One step of the plan. */
export interface PlannedStepStatus {
  readonly name: string;
  readonly needs: readonly string[];
  readonly key: string | null;
  readonly cache: 'hit' | 'miss' | 'after-miss';
  readonly producedBy: string | null;
  readonly explanation: readonly string[];
}

/** The plan of a build of `req`, frozen. */
export async function planBuild(req: BuildRequest, world: Omit<BuildEnvironment, 'signal' | 'checkpoint'>) {
  const paths = kilnPaths(world.kilnHome);
  const gitEnv = { PATH: world.env.PATH };
  const prepared = await prepareBuild(req, world as BuildEnvironment, paths, gitEnv);
  const { source, config } = prepared;
  const store = await openSqliteStore(paths.store);
  const workDir = join(await workRoot(paths, world.env), `plan-${newBuildId(world.now())}`);
  try {
    await createWorkDir(workDir);
    const { runner, builder } = await resolveBuilder(
      prepared,
      world.runner,
      (extra) => identifyBuilder(world.runner, world.env, paths, extra),
      (message) => world.emit({ kind: 'notice', message }),
      paths.home,
    );
    const { view, steps, cache, previous } = await setupSteps(prepared, {
      workDir,
      paths,
      world,
      runner,
      builder,
      cacheModes: req.cacheModes,
      store,
    });
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
    await closeQuietly(store);
  }
}
