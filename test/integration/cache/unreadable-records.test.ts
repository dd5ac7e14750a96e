// Cache records that cannot be read (a directory where a file should be) or are malformed: each is a warning and a
// miss, the build goes on, and what it stores replaces the bad record.
import { lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, harness } from '../../helpers/harness.js';
import { demoProject } from '../../helpers/project.js';
import { makeRepo } from '../../helpers/repo.js';
import { tempDir } from '../../helpers/tmp.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.kiln.close();
  h = undefined;
});

/** Every regular file under `dir` (relative paths). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((rel) => lstatSync(join(dir, rel)).isFile() && !rel.split('/').pop()?.startsWith('.'))
    .sort();
}

describe('unreadable or malformed cache records', () => {
  const kinds = [
    ['action entries', 'ac'],
    ['CAS blobs and output trees', 'cas'],
    ['SBOM memos', 'sbom'],
  ] as const;

  for (const [what, sub] of kinds) {
    it(`treats ${what} that are directories as misses, builds, and stores them again`, async () => {
      const root = tempDir();
      const repo = join(root, 'repo');
      makeRepo(repo, demoProject());
      h = harness({ cwd: root });
      const request = { projectPath: repo, allowDirty: false, runner: 'host' as const, force: true };
      const first = await h.kiln.build(request);
      const dir = join(h.home, 'cache', sub);
      const records = filesUnder(dir);
      expect(records.length).toBeGreaterThan(0);
      for (const rel of records) {
        rmSync(join(dir, rel));
        mkdirSync(join(dir, rel, 'junk'), { recursive: true });
      }
      h.events.length = 0;
      const second = await h.kiln.build(request);
      expect(second.status).toBe('succeeded');
      expect(second.artifacts.map((a) => a.digest)).toEqual(first.artifacts.map((a) => a.digest));
      if (sub !== 'sbom') {
        expect(h.of('warning').map((e) => e.message)).toContainEqual(expect.stringMatching(/cannot be read/));
        expect(h.of('cache-lookup').map((e) => e.result)).toEqual(['miss', 'miss']);
      }
      // Re-stored as files: the next build hits again.
      expect(filesUnder(dir)).toEqual(expect.arrayContaining(records));
      h.events.length = 0;
      await h.kiln.build(request);
      expect(h.of('cache-lookup').map((e) => e.result)).toEqual(['hit', 'hit']);
    });
  }

  it('treats malformed action entries (not JSON, empty) as misses with a warning', async () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    makeRepo(repo, demoProject());
    h = harness({ cwd: root });
    const request = { projectPath: repo, allowDirty: false, runner: 'host' as const, force: true };
    const first = await h.kiln.build(request);
    const ac = join(h.home, 'cache', 'ac');
    const [one, two] = filesUnder(ac);
    writeFileSync(join(ac, one ?? ''), 'not json {');
    writeFileSync(join(ac, two ?? ''), '');
    h.events.length = 0;
    const second = await h.kiln.build(request);
    expect(second.artifacts.map((a) => a.digest)).toEqual(first.artifacts.map((a) => a.digest));
    expect(h.of('cache-lookup').map((e) => e.result)).toEqual(['miss', 'miss']);
    expect(h.of('warning').filter((e) => /ignored the local cache entry/.test(e.message))).toHaveLength(2);
  });
});
