// The build, verify and show use cases in process (no CLI): what they return, what they record, and the events they
// emit for the progress display, logs and metrics.
import { readFileSync, writeFileSync } from 'node:fs';
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

function project() {
  const root = tempDir();
  const repo = join(root, 'repo');
  const commit = makeRepo(repo, demoProject());
  h = harness({ cwd: root });
  return { repo, commit, h };
}

describe('the build use case', () => {
  it('builds, records step times, and tells its story in events: lifecycle, cache lookups, what the cache stored', async () => {
    const { repo, commit, h } = project();
    const built = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host' });
    expect(built).toMatchObject({ commit, status: 'succeeded', upToDate: false, published: [] });
    expect(built.artifacts.map((a) => a.name)).toEqual(['demo']);

    const kinds = h.events.map((e) => e.kind);
    const at = (kind: string, step?: string) =>
      h.events.findIndex((e) => e.kind === kind && (step === undefined || ('step' in e && e.step === step)));
    expect(at('build-started')).toBe(0);
    for (const step of ['compile', 'test']) {
      expect(at('cache-lookup', step)).toBeGreaterThan(at('build-started'));
      expect(at('step-started', step)).toBeGreaterThan(at('cache-lookup', step));
      expect(at('step-finished', step)).toBeGreaterThan(at('step-started', step));
    }
    expect(kinds.at(-1)).toBe('build-finished');
    expect(h.of('build-finished')).toMatchObject([{ buildId: built.buildId, status: 'succeeded' }]);
    expect(h.of('cache-lookup').map((e) => [e.step, e.result])).toEqual([
      ['compile', 'miss'],
      ['test', 'miss'],
    ]);
    expect(h.of('cache-stored').find((e) => e.step === 'compile')?.bytes).toBeGreaterThan(0);
    const finished = h.of('step-finished');
    expect(finished.map((e) => [e.step, e.status, e.network])).toEqual([
      ['compile', 'succeeded', false],
      ['test', 'succeeded', false],
    ]);
    for (const e of finished) expect(Date.parse(e.finishedAt)).toBeGreaterThanOrEqual(Date.parse(e.startedAt));
    for (const e of h.events) expect(Number.isNaN(Date.parse(e.at))).toBe(false);

    const shown = await h.kiln.showBuild(built.buildId);
    expect(shown.steps.map((s) => [s.name, s.status])).toEqual([
      ['compile', 'succeeded'],
      ['test', 'succeeded'],
    ]);
    const compile = shown.steps[0];
    const compileEvent = finished[0];
    expect(compile?.started_at).toBe(compileEvent?.startedAt);
    expect(compile?.finished_at).toBe(compileEvent?.finishedAt);
  });

  it('replays a forced rebuild from the local cache, with the bytes each hit supplies', async () => {
    const { repo, h } = project();
    const first = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host' });
    h.events.length = 0;
    const again = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host', force: true });
    expect(again.buildId).not.toBe(first.buildId);
    const hits = h.of('cache-lookup');
    expect(hits.map((e) => [e.step, e.result, e.tier, e.why])).toEqual([
      ['compile', 'hit', 'local', first.buildId],
      ['test', 'hit', 'local', first.buildId],
    ]);
    expect(hits[0]?.bytes).toBeGreaterThan(0);
    expect(h.of('step-finished').map((e) => e.status)).toEqual(['cached', 'cached']);
    expect(again.artifacts[0]?.digest).toBe(first.artifacts[0]?.digest);
  });

  it('hands back an identical earlier build without running anything', async () => {
    const { repo, h } = project();
    const first = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host' });
    h.events.length = 0;
    const again = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host' });
    expect(again).toMatchObject({ buildId: first.buildId, upToDate: true });
    expect(h.events.map((e) => e.kind)).toEqual(['build-reused']);
  });

  it('stops sibling steps still running when one fails (two steps at a time, however many CPUs the host has)', async () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const yaml = DEMO_KILN_YAML.replace(
      'artifacts:',
      `  slow:
    run: sleep 60
  fast-fail:
    run: sleep 0.5; exit 3
artifacts:`,
    );
    makeRepo(repo, demoProject({ 'kiln.yaml': yaml }));
    h = harness({ cwd: root }); // two steps at a time: the CLI would run one at a time on a 1-CPU machine
    const failed = await h.kiln.build({ projectPath: repo, allowDirty: false }).catch((e) => e);
    expect(isKilnError(failed, 'KILN_STEP_FAILED')).toBe(true);
    expect(failed.message).toContain('step fast-fail failed with exit code 3');
    const [build] = await h.kiln.listBuilds({ limit: 1 });
    const slow = (await h.kiln.showBuild(build?.id ?? '')).steps.find((s) => s.name === 'slow');
    expect(slow?.status).toBe('failed'); // stopped, not waited for: it would have slept 60 s
    expect(slow?.exit_code).not.toBe(0);
  });

  it('fails with a stable code for an unknown runner or cache spec, before anything is built', async () => {
    const { repo, h } = project();
    const runner = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'docker' }).catch((e) => e);
    expect(isKilnError(runner, 'KILN_USAGE')).toBe(true);
    expect(runner.message).toBe('unknown --runner "docker"');
    const cache = await h.kiln
      .build({ projectPath: repo, allowDirty: false, cache: 'local:sometimes' })
      .catch((e) => e);
    expect(isKilnError(cache, 'KILN_USAGE')).toBe(true);
    expect(h.events).toEqual([]);
    expect(await h.kiln.listBuilds({ limit: 10 })).toEqual([]);
  });
});

describe('the verify use case', () => {
  it('verifies what the build delivered, and reports each signature check as an event', async () => {
    const { repo, h } = project();
    const built = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host' });
    const artifact = built.artifacts[0]?.path as string;
    writeFileSync(join(h.home, 'test.pub'), h.signer.publicKeyPem);
    h.events.length = 0;
    const ok = await h.kiln.verify({
      target: artifact,
      key: join(h.home, 'test.pub'),
      expect: { sourceCommit: built.commit },
      require: ['sbom', 'vulns', 'policy'],
      insecure: false,
    });
    expect(ok.ok).toBe(true);
    expect(h.of('signature-verified').map((e) => [e.evidence, e.ok])).toEqual([
      ['provenance', true],
      ['sbom', true],
      ['vulns', true],
      ['policy', true],
    ]);

    h.events.length = 0;
    const otherCommit = await h.kiln.verify({
      target: artifact,
      key: join(h.home, 'test.pub'),
      expect: { sourceCommit: 'f'.repeat(40) },
      require: [],
      insecure: false,
    });
    expect(otherCommit.ok).toBe(false); // what was signed is not what was expected, but the signature is fine
    expect(h.of('signature-verified')).toMatchObject([{ evidence: 'provenance', ok: true }]);

    writeFileSync(artifact, `${readFileSync(artifact, 'latin1')}tampered`, 'latin1');
    h.events.length = 0;
    const tampered = await h.kiln.verify({
      target: artifact,
      key: join(h.home, 'test.pub'),
      expect: {},
      require: [],
      insecure: false,
    });
    expect(tampered.ok).toBe(false);
    const [provenance] = h.of('signature-verified');
    expect(provenance).toMatchObject({ context: 'verify', evidence: 'provenance', ok: false });
    expect(provenance?.why).toMatch(/not a subject of the attestation/);
  });
});
