import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoProject } from '../helpers/project.js';
import { git, kiln, makeRepo, writeFiles } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

interface Plan {
  commit: string;
  steps: { name: string; key: string | null; cache: string; explanation: string[]; producedBy: string | null }[];
}

describe('kiln plan and kiln cache', () => {
  it('plan shows keys and what the cache would do, without building or recording anything', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const commit = makeRepo(repo, demoProject());
    const home = join(root, 'home');
    const stderr: string[] = [];
    const plan = (): Plan => {
      const r = kiln(['plan', '--json'], { cwd: repo, home });
      if (r.status !== 0) throw new Error(r.stderr);
      stderr.push(r.stderr);
      return JSON.parse(r.stdout) as Plan;
    };
    const before = plan();
    expect(stderr[0]).toContain('created a local signing key'); // a fresh home: the key it will sign with
    expect(before.commit).toBe(commit);
    expect(before.steps.map((s) => [s.name, s.cache])).toEqual([
      ['compile', 'miss'],
      ['test', 'after-miss'],
    ]);
    expect(before.steps[0]?.key).toMatch(/^[0-9a-f]{64}$/);
    expect(before.steps[1]?.explanation).toEqual(['runs after compile, which must run first']);
    expect(JSON.parse(kiln(['builds', '--json'], { cwd: repo, home }).stdout)).toEqual([]);

    const built = JSON.parse(kiln(['build', '--json'], { cwd: repo, home }).stdout);
    const after = plan();
    expect(after.steps.every((s) => s.cache === 'hit' && s.producedBy === built.buildId)).toBe(true);
    expect(after.steps[0]?.key).toBe(before.steps[0]?.key);

    writeFiles(repo, { 'src/main.js': 'export const main = () => "changed";\n' });
    git(repo, ['commit', '-qam', 'change'], '2024-05-02T00:00:00Z');
    const changed = plan();
    expect(changed.steps[0]).toMatchObject({ cache: 'miss', explanation: ['input changed: src/main.js'] });
    const text = kiln(['plan'], { cwd: repo, home });
    expect(text.stdout).toMatch(/miss +[0-9a-f]{12} +compile +input changed: src\/main\.js/);
  });

  it('cache stats counts what builds stored, and gc shrinks the cache to the size asked for', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    makeRepo(repo, demoProject());
    const home = join(root, 'home');
    expect(kiln(['build'], { cwd: repo, home }).status).toBe(0);
    const stats = JSON.parse(kiln(['cache', 'stats', '--json'], { cwd: repo, home }).stdout);
    expect(stats.actions).toBe(2);
    expect(stats.blobs).toBeGreaterThan(2);
    expect(stats.bytes).toBeGreaterThan(0);
    const gc = JSON.parse(kiln(['cache', 'gc', '--max-size', '0', '--json'], { cwd: repo, home }).stdout);
    expect(gc.bytesAfter).toBe(0);
    expect(gc.removed.length).toBe(stats.blobs + stats.actions);
    const bad = kiln(['cache', 'gc', '--max-size', 'lots'], { cwd: repo, home });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--max-size "lots" is not a size');
    // After gc every step runs again, and the build is still right.
    const rebuilt = JSON.parse(kiln(['build', '--json'], { cwd: repo, home }).stdout);
    expect(rebuilt.cache.hits).toBe(0);
  });
});
