// kiln.yaml `retries` through the build use case, on the host runner: a step's command writes how many times it ran
// to a counter file outside the project (the one thing its attempts share: each runs in a fresh directory), so a
// step that fails the first time and passes the second is exactly that, every time.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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

/** Shell that counts this run in `counter` and leaves its number in $n. */
const count = (counter: string) => `n=$(( $(cat ${counter} 2>/dev/null || echo 0) + 1 )); echo $n > ${counter}`;

/** The demo project with its `test` step replaced by `step` (YAML lines under `test:`); returns where it counts. */
function project(step: (counter: string) => string, top = '') {
  const root = tempDir();
  const repo = join(root, 'repo');
  const counter = join(tempDir('kiln-counter-'), 'runs');
  const [head, tail] = DEMO_KILN_YAML.split('  test:\n');
  const rest = (tail ?? '').slice((tail ?? '').indexOf('artifacts:'));
  makeRepo(repo, demoProject({ 'kiln.yaml': `${top}${head}  test:\n${step(counter)}${rest}` }));
  h = harness({ cwd: root });
  const runs = () => (existsSync(counter) ? Number(readFileSync(counter, 'utf8')) : 0);
  return { repo, h, runs };
}

describe('retries', () => {
  it('retries a step that fails once, in a fresh directory, records it as flaky, and replays it cleanly later', async () => {
    const { repo, h, runs } = project(
      (counter) => `    run: >-
      if test -e leftover; then echo "an earlier attempt leaked"; exit 3; fi;
      touch leftover; test -f out/lib/main.js || exit 4; ${count(counter)};
      echo "run $n"; test $n -ge 2
    needs: [compile]
    retries: 2
`,
    );
    const built = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host' });
    expect(runs()).toBe(2);
    expect(built.flakySteps).toBe(1);
    expect(built.steps.map((s) => [s.name, s.status, s.attempts, s.flaky])).toEqual([
      ['compile', 'succeeded', 1, false],
      ['test', 'succeeded', 2, true],
    ]);
    expect(h.of('step-retry')).toMatchObject([{ step: 'test', attempt: 1, maxAttempts: 3, exitCode: 1 }]);
    expect(h.of('step-finished').find((e) => e.step === 'test')).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(h.of('step-finished').find((e) => e.step === 'compile')).not.toHaveProperty('attempts');

    const shown = await h.kiln.showBuild(built.buildId);
    expect(shown.build.flaky_steps).toBe(1);
    expect(shown.build.status).toBe('succeeded');
    expect(shown.steps.map((s) => [s.name, s.attempts, s.flaky])).toEqual([
      ['compile', 1, 0],
      ['test', 2, 1],
    ]);
    const log = readFileSync(shown.steps[1]?.log_path as string, 'utf8');
    expect(log).toBe(
      'run 1\n' +
        'kiln: attempt 1 of 3 exited 1; attempt 2 of 3 runs in a fresh directory\n' +
        'run 2\n' +
        'kiln: attempt 2 of 3 exited 0: the step passed after failing, so it is flaky\n',
    );

    // Built again, the same commit is up to date: the build handed back keeps its mark.
    const same = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host' });
    expect(same).toMatchObject({ buildId: built.buildId, upToDate: true, flakySteps: 1 });

    // The passing attempt's outputs were cached: a forced rebuild replays the step and runs nothing.
    h.events.length = 0;
    const again = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host', force: true });
    expect(runs()).toBe(2);
    expect(again.flakySteps).toBe(0);
    expect(again.steps.map((s) => [s.name, s.status, s.attempts, s.flaky])).toEqual([
      ['compile', 'cached', 0, false],
      ['test', 'cached', 0, false],
    ]);
    expect(h.of('step-retry')).toEqual([]);
    expect((await h.kiln.showBuild(again.buildId)).build.flaky_steps).toBe(0);
    // The flaky build keeps its mark.
    expect((await h.kiln.listBuilds({ limit: 5 })).map((b) => [b.id, b.flaky_steps])).toEqual([
      [again.buildId, 0],
      [built.buildId, 1],
    ]);
  });

  it('fails the build as without retries when every attempt fails, with the last exit code', async () => {
    const { repo, h, runs } = project(
      (counter) => `    run: '${count(counter)}; echo "run $n"; exit 7'
    needs: [compile]
    retries: 2
`,
    );
    const failed = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host' }).catch((e) => e);
    expect(isKilnError(failed, 'KILN_STEP_FAILED')).toBe(true);
    expect(failed.message).toContain('step test failed with exit code 7');
    expect(failed.message).toContain('kiln: attempt 3 of 3 exited 7: the step failed every attempt');
    expect(runs()).toBe(3);
    expect(h.of('step-retry').map((e) => e.attempt)).toEqual([1, 2]);
    const [build] = await h.kiln.listBuilds({ limit: 1 });
    expect(build).toMatchObject({ status: 'failed', exit_code: 7, flaky_steps: 0 });
    const test = (await h.kiln.showBuild(build?.id ?? '')).steps.find((s) => s.name === 'test');
    expect(test).toMatchObject({ status: 'failed', exit_code: 7, attempts: 3, flaky: 0 });
    const log = readFileSync(test?.log_path as string, 'utf8');
    expect(log.match(/^run \d$/gm)).toEqual(['run 1', 'run 2', 'run 3']);
  });

  it('does not retry a step stopped by a resource limit, even when it exits non-zero', async () => {
    // Too many open files: the command exits 7 on its own, and the limit is what failed it.
    const { repo, h, runs } = project(
      (counter) => `    run: >-
      ${count(counter)};
      bash -c 'for i in $(seq 100); do exec {fd}</dev/null || exit 7; done'
    needs: [compile]
    retries: 3
`,
      'limits: { openFiles: 32 }\n',
    );
    const failed = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host' }).catch((e) => e);
    expect(isKilnError(failed, 'KILN_STEP_LIMIT')).toBe(true);
    expect(runs()).toBe(1);
    expect(h.of('step-retry')).toEqual([]);
  });

  it('does not retry a step stopped by its timeout', async () => {
    const { repo, h, runs } = project(
      (counter) => `    run: '${count(counter)}; sleep 30'
    needs: [compile]
    timeout: 1
    retries: 3
`,
    );
    const failed = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host' }).catch((e) => e);
    expect(isKilnError(failed, 'KILN_STEP_FAILED')).toBe(true);
    expect(failed.message).toContain('timed out');
    expect(runs()).toBe(1);
    expect(h.of('step-retry')).toEqual([]);
  });

  it('does not retry a step whose command exited 0 without its outputs', async () => {
    const { repo, h, runs } = project(
      (counter) => `    run: '${count(counter)}'
    needs: [compile]
    outputs: [report]
    retries: 3
`,
    );
    const failed = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host' }).catch((e) => e);
    expect(isKilnError(failed, 'KILN_OUTPUT_MISSING')).toBe(true);
    expect(runs()).toBe(1);
    expect(h.of('step-retry')).toEqual([]);
  });

  it('does not retry a step an interrupt stopped, even one that exits 1 when told to stop', async () => {
    const { repo, h, runs } = project(
      (counter) => `    run: >-
      trap 'echo stopping; exit 1' TERM; ${count(counter)}; sleep 30 & wait
    needs: [compile]
    retries: 3
`,
    );
    const stop = new AbortController();
    const poll = setInterval(() => {
      if (runs() > 0) stop.abort();
    }, 50);
    const failed = await h.kiln
      .build({ projectPath: repo, allowDirty: false, runner: 'host' }, { signal: stop.signal })
      .catch((e) => e)
      .finally(() => clearInterval(poll));
    expect(isKilnError(failed, 'KILN_INTERRUPTED')).toBe(true);
    expect(runs()).toBe(1);
    expect(h.of('step-retry')).toEqual([]);
    const [build] = await h.kiln.listBuilds({ limit: 1 });
    const test = (await h.kiln.showBuild(build?.id ?? '')).steps.find((s) => s.name === 'test');
    expect(test).toMatchObject({ status: 'failed', attempts: 1 });
  });
});
