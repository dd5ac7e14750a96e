// `kiln show` names a build by its id, the commit it built, or the digest of an artifact it made.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isKilnError } from '../../../src/core/errors.js';
import { type Harness, harness } from '../../helpers/harness.js';
import { demoProject } from '../../helpers/project.js';
import { git, makeRepo, writeFiles } from '../../helpers/repo.js';
import { tempDir } from '../../helpers/tmp.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.kiln.close();
  h = undefined;
});

describe('showing a build', () => {
  it('by id, commit or artifact digest, in full or by prefix; ambiguous and unknown names are refused clearly', async () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const first = makeRepo(repo, demoProject());
    h = harness({ cwd: root });
    const request = { projectPath: repo, allowDirty: false, runner: 'host' };
    const a = await h.kiln.build(request);
    writeFiles(repo, { 'src/main.js': 'export const main = () => "hello again";\n' });
    git(repo, ['commit', '-q', '-am', 'second']);
    const second = git(repo, ['rev-parse', 'HEAD']).trim();
    const b = await h.kiln.build(request);
    const c = await h.kiln.build({ ...request, force: true }); // the same commit and artifact, a newer build
    const digestOf = async (id: string) => (await h?.kiln.showBuild(id))?.artifacts[0]?.digest as string;
    const [digestA, digestC] = [await digestOf(a.buildId), await digestOf(c.buildId)];

    const shown = async (ref: string) => (await (h as Harness).kiln.showBuild(ref)).build.id;
    expect(await shown(a.buildId)).toBe(a.buildId);
    expect(await shown(first)).toBe(a.buildId);
    expect(await shown(first.slice(0, 10))).toBe(a.buildId);
    expect(await shown(digestA)).toBe(a.buildId);
    expect(await shown(digestA.slice(0, 'sha256:'.length + 12))).toBe(a.buildId);
    expect(await shown(digestA.slice('sha256:'.length, 'sha256:'.length + 12))).toBe(a.buildId);
    // Two builds made the same commit and artifact: the newest is shown, and a notice names the other.
    expect(await shown(second)).toBe(c.buildId);
    expect(await shown(digestC)).toBe(c.buildId);
    expect(h.of('notice').map((e) => e.message)).toContain(
      `artifact ${digestC} was built by 2 builds; showing the newest, ${c.buildId} (others: ${b.buildId})`,
    );

    const ambiguous = await shown(a.buildId.slice(0, 8)).catch((e: unknown) => e);
    expect(isKilnError(ambiguous, 'KILN_USAGE')).toBe(true);
    for (const id of [a.buildId, b.buildId, c.buildId]) expect((ambiguous as Error).message).toContain(`build ${id}`);
    const unknown = await shown('sha256:0000ffff').catch((e: unknown) => e);
    expect(isKilnError(unknown, 'KILN_NOT_FOUND')).toBe(true);
  });
});
