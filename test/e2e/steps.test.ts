import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alive } from '../helpers/process.js';
import { DEMO_KILN_YAML, demoProject } from '../helpers/project.js';
import { git, kiln, makeRepo, writeFiles } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

function buildWith(yaml: string, files: Record<string, string> = {}, extra: string[] = []) {
  const root = tempDir();
  const repo = join(root, 'repo');
  makeRepo(repo, demoProject({ 'kiln.yaml': yaml, ...files }));
  const home = join(root, 'home');
  const run = kiln(['build', '--json', ...extra], { cwd: repo, home });
  const builds = JSON.parse(kiln(['builds', '--json'], { cwd: repo, home }).stdout);
  return { root, repo, home, run, builds };
}

describe('steps', () => {
  it('on the host runner: stops what a step left running in the background once the step is done', () => {
    const pidFile = join(tempDir(), 'bg.pid');
    const yaml = DEMO_KILN_YAML.replace(
      'run: test -f out/lib/main.js && echo tests ok',
      `run: sleep 300 > /dev/null 2>&1 & echo $! > ${pidFile}; sleep 60 & echo tests ok`,
    );
    const { run } = buildWith(yaml, {}, ['--runner', 'host']);
    expect(run.status).toBe(0); // not held up by the `sleep 60` that still holds the step's output pipe
    expect(alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  it('fails a step that runs past its timeout, and stops it', () => {
    const yaml = DEMO_KILN_YAML.replace(
      'run: test -f out/lib/main.js && echo tests ok',
      'run: echo waiting; sleep 60\n    timeout: 1',
    );
    const { run, builds } = buildWith(yaml);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('step test failed with exit code none (killed)');
    expect(run.stderr).toContain('| kiln: step timed out after 1s and was stopped');
    expect(builds[0]).toMatchObject({ status: 'failed' });
  });

  it('records failures after the steps too: a declared output the step did not produce', () => {
    const yaml = `name: demo
steps:
  compile:
    run: echo forgot to write out
    outputs: [out]
artifacts:
  - name: demo
    from: compile
    path: out
`;
    const { run, builds, repo, home } = buildWith(yaml);
    expect(run.status).toBe(1);
    // Kiln's failure, with its own code, not passed off as the command's exit status (the command exited 0).
    expect(run.stderr).toContain('error KILN_OUTPUT_MISSING: step compile ran (its command exited 0), but output out');
    expect(run.stderr).not.toContain('exit code 1');
    expect(builds).toHaveLength(1);
    expect(builds[0]).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('output out was not produced'),
    });
    const shown = JSON.parse(kiln(['show', builds[0].id, '--json'], { cwd: repo, home }).stdout);
    const step = shown.steps.find((s: { name: string }) => s.name === 'compile');
    expect(step).toMatchObject({ status: 'failed', exit_code: 0 });
    // The reason is in the step's log, after what the command printed.
    expect(readFileSync(step.log_path, 'utf8')).toMatch(/^forgot to write out\nkiln: .*output out was not produced/);
  });

  it('on the host runner (no sandbox): fails when a step rewrites the lockfile of the checked-out tree', () => {
    // A dirty build checks the working tree out; a host step can reach it, and Kiln notices.
    const yaml = DEMO_KILN_YAML.replace(
      'run: test -f out/lib/main.js && echo tests ok',
      'run: echo "{}" > ../../tree/package-lock.json',
    );
    const root = tempDir();
    const repo = join(root, 'repo');
    makeRepo(repo, demoProject({ 'kiln.yaml': yaml }));
    writeFiles(repo, { 'notes.txt': 'uncommitted\n' });
    const run = kiln(['build', '--allow-dirty', '--runner', 'host'], { cwd: repo, home: join(root, 'home') });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('a step changed package-lock.json during the build');
  });
});

describe('which source is built', () => {
  it('--allow-dirty builds the uncommitted change; --rev builds an older commit even when the tree is dirty', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const first = makeRepo(repo, demoProject());
    writeFiles(repo, { 'src/main.js': 'export const main = () => "second";\n' });
    git(repo, ['commit', '-qam', 'second'], '2024-06-01T00:00:00Z');
    writeFiles(repo, { 'src/main.js': 'export const main = () => "dirty";\n' });
    const home = join(root, 'home');
    const dirty = kiln(['build', '--allow-dirty', '--json'], { cwd: repo, home });
    expect(dirty.status).toBe(0);
    const listing = (json: string) => mainJsIn(JSON.parse(json).artifacts[0].path);
    expect(listing(dirty.stdout)).toContain('"dirty"');
    const old = kiln(['build', '--rev', first, '--json'], { cwd: repo, home });
    expect(old.stderr).not.toContain('uncommitted');
    expect(old.status).toBe(0);
    expect(JSON.parse(old.stdout).commit).toBe(first);
    expect(listing(old.stdout)).toContain('"hello"');
  });
});

function mainJsIn(tgz: string): string {
  return execFileSync('tar', ['-xzOf', tgz, 'lib/main.js'], { encoding: 'utf8' });
}
