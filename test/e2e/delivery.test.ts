// Delivery into the output directory under a crash: the directory holds one build's set (or the earlier one), never
// a mix, and the temp files of a killed delivery are gone after the next build.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoProject } from '../helpers/project.js';
import { git, kiln, makeRepo, writeFiles } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

describe('delivery into the output directory', () => {
  it('keeps the earlier set whole when killed while delivering, and the next build cleans up after it', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    makeRepo(repo, demoProject());
    const home = join(root, 'home');
    expect(kiln(['build'], { cwd: repo, home }).status).toBe(0);
    writeFiles(repo, { 'src/util.js': 'export const twice = (x) => x + x;\n' });
    git(repo, ['commit', '-qam', 'change the artifact'], '2024-05-02T00:00:00Z');
    const out = join(repo, 'kiln-out');
    const temps = () => readdirSync(out).filter((n) => n.includes('.tmp-'));

    const crashed = kiln(['build'], { cwd: repo, home, env: { KILN_FAULT_INJECT: 'while-delivering' } });
    expect(crashed.signal).toBe('SIGKILL');
    expect(temps().length).toBeGreaterThan(0); // the new set, staged but not yet in place
    expect(kiln(['verify', 'kiln-out/demo.tgz'], { cwd: repo, home }).status).toBe(0); // the earlier set, whole

    const rerun = kiln(['build'], { cwd: repo, home });
    expect(rerun.status).toBe(0);
    expect(temps()).toEqual([]);
    expect(kiln(['verify', 'kiln-out/demo.tgz'], { cwd: repo, home }).status).toBe(0);
  });
});
