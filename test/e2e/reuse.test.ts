import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoProject } from '../helpers/project.js';
import { git, kiln, makeRepo } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

interface Built {
  buildId: string;
  upToDate: boolean;
  artifacts: { path: string; digest: string; bundle: string; sbom: string }[];
  steps: unknown[];
}

function build(repo: string, home: string, args: string[] = []): Built & { stderr: string } {
  const r = kiln(['build', '--json', ...args], { cwd: repo, home });
  if (r.status !== 0) throw new Error(`kiln build failed (${r.status}):\n${r.stderr}`);
  return { ...(JSON.parse(r.stdout) as Built), stderr: r.stderr };
}

function builds(repo: string, home: string): unknown[] {
  return JSON.parse(kiln(['builds', '--json'], { cwd: repo, home }).stdout);
}

function outputs(repo: string): Record<string, string> {
  const dir = join(repo, 'kiln-out');
  return Object.fromEntries(readdirSync(dir).map((n) => [n, readFileSync(join(dir, n), 'base64')]));
}

describe('an unchanged build', () => {
  it('hands back the identical earlier build, restoring changed or missing files from the OCI layout', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    makeRepo(repo, demoProject());
    const home = join(root, 'home');
    const first = build(repo, home);
    expect(first.upToDate).toBe(false);
    const delivered = outputs(repo);

    const again = build(repo, home);
    expect(again).toMatchObject({ buildId: first.buildId, upToDate: true, steps: [] });
    expect(again.artifacts).toEqual(first.artifacts);
    expect(again.stderr).toContain(`up to date: build ${first.buildId}`);
    expect(builds(repo, home)).toHaveLength(1); // nothing new was recorded

    // A deleted artifact and a tampered bundle are put back bit for bit, without building.
    const [artifact] = first.artifacts;
    if (!artifact) throw new Error('no artifact');
    rmSync(artifact.path);
    writeFileSync(artifact.bundle, '{}');
    expect(build(repo, home)).toMatchObject({ buildId: first.buildId, upToDate: true });
    expect(outputs(repo)).toEqual(delivered);

    // --force builds again: a new recorded build with the same artifact.
    const forced = build(repo, home, ['--force']);
    expect(forced.upToDate).toBe(false);
    expect(forced.buildId).not.toBe(first.buildId);
    expect(forced.artifacts[0]?.digest).toBe(artifact.digest);
    expect(builds(repo, home)).toHaveLength(2);
  });

  it('is built again when the commit or the key changes, or when the OCI layout lost what was published', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    makeRepo(repo, demoProject());
    const home = join(root, 'home');
    const first = build(repo, home);

    writeFileSync(join(repo, 'src', 'util.js'), 'export const twice = (x) => 2 * x;\n');
    git(repo, ['commit', '-qam', 'change']);
    const changed = build(repo, home);
    expect(changed.upToDate).toBe(false);

    kiln(['keys', 'generate', '--out', join(root, 'other')], { cwd: root, home });
    expect(build(repo, home, ['--key', join(root, 'other.key')]).upToDate).toBe(false);

    // The layout's copy of the artifact is corrupt and the delivered one is gone: nothing to reuse, so it builds.
    const blobs = join(home, 'oci', 'blobs', 'sha256');
    const artifactBlob = join(blobs, changed.artifacts[0]?.digest.slice('sha256:'.length) ?? '');
    writeFileSync(artifactBlob, 'corrupt');
    rmSync(join(repo, 'kiln-out'), { recursive: true });
    const rebuilt = build(repo, home);
    expect(rebuilt.upToDate).toBe(false);
    expect(rebuilt.artifacts[0]?.digest).toBe(changed.artifacts[0]?.digest);
    expect(first.buildId).not.toBe(rebuilt.buildId);
  });

  it('is never reused from a dirty tree', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    makeRepo(repo, demoProject());
    const home = join(root, 'home');
    writeFileSync(join(repo, 'src', 'main.js'), 'export const main = () => "dirty";\n');
    expect(build(repo, home, ['--allow-dirty']).upToDate).toBe(false);
    expect(build(repo, home, ['--allow-dirty']).upToDate).toBe(false);
  });
});
