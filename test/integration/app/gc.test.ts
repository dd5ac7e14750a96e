// The gc use case in process: the plan it reports, and a gc-action event for everything applying removes.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, harness } from '../../helpers/harness.js';
import { DEMO_KILN_YAML, demoProject } from '../../helpers/project.js';
import { git, makeRepo, writeFiles } from '../../helpers/repo.js';
import { tempDir } from '../../helpers/tmp.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.kiln.close();
  h = undefined;
});

describe('the gc use case', () => {
  it('keeps the last build of the branch, removes the older one, and reports each removal as an event', async () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    makeRepo(repo, demoProject({ 'kiln.yaml': `${DEMO_KILN_YAML}retention:\n  keepLast: 1\n` }));
    h = harness({ cwd: root });
    const old = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host' });
    writeFiles(repo, { 'src/util.js': 'export const twice = (x) => x + x;\n' });
    git(repo, ['commit', '-qam', 'second'], '2024-05-02T12:00:00Z');
    const kept = await h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host' });

    const dry = await h.kiln.gc({ projectPath: repo, apply: false, localOnly: true });
    expect(dry).toMatchObject({ dryRun: true, applied: null });
    expect(dry.plan.store.remove).toEqual([old.buildId]);
    expect(h.of('gc-action')).toEqual([]);

    const applied = await h.kiln.gc({ projectPath: repo, apply: true, localOnly: true });
    expect(applied.applied).toMatchObject({ buildsDeleted: 1 });
    const actions = h.of('gc-action');
    expect(actions.filter((a) => a.action === 'delete-build').map((a) => a.target)).toEqual([old.buildId]);
    const manifests = actions.filter((a) => a.action === 'remove-manifest').map((a) => a.target);
    expect(manifests).toContain(old.artifacts[0]?.manifestDigest);
    expect(manifests).not.toContain(kept.artifacts[0]?.manifestDigest);
    const dirs = actions.filter((a) => a.action === 'remove-build-dir').map((a) => a.target);
    expect(dirs).toEqual([join(h.home, 'builds', old.buildId)]);
    expect(applied.report.some((line) => line.includes(old.buildId))).toBe(true);
    expect((await h.kiln.listBuilds({ limit: 10 })).map((b) => b.id)).toEqual([kept.buildId]);
  });

  it('counts keepLast per repository: a project of the same name elsewhere keeps its builds and is left alone', async () => {
    const root = tempDir();
    const yaml = `${DEMO_KILN_YAML}retention:\n  keepLast: 1\n`;
    const [ours, theirs] = [join(root, 'ours'), join(root, 'theirs')];
    makeRepo(ours, demoProject({ 'kiln.yaml': yaml }));
    makeRepo(theirs, demoProject({ 'kiln.yaml': yaml, 'src/main.js': 'export const main = () => "theirs";\n' }));
    h = harness({ cwd: root });
    const request = (projectPath: string) => ({ projectPath, allowDirty: false, runner: 'host' });
    const old = await h.kiln.build(request(ours));
    writeFiles(ours, { 'src/util.js': 'export const twice = (x) => x + x;\n' });
    git(ours, ['commit', '-qam', 'second'], '2024-05-02T12:00:00Z');
    const kept = await h.kiln.build(request(ours));
    const namesake = await h.kiln.build(request(theirs)); // the newest build of a project called demo

    const dry = await h.kiln.gc({ projectPath: ours, apply: false, localOnly: true });
    expect(dry.plan.builds.map((b) => [b.id, b.keep])).toEqual([
      [kept.buildId, true],
      [old.buildId, false],
    ]);
    expect(dry.plan.layout.unrecorded).toEqual([]);
    await h.kiln.gc({ projectPath: ours, apply: true, localOnly: true });
    const left = (await h.kiln.listBuilds({ limit: 10 })).map((b) => b.id);
    expect(left.sort()).toEqual([kept.buildId, namesake.buildId].sort());
  });
});
