import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { alive } from '../helpers/process.js';
import { DEMO_KILN_YAML, demoProject } from '../helpers/project.js';
import { kiln, makeRepo } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

describe('interrupting a build', () => {
  it('stops the running step and everything it started, exits 130 and records the attempt', async () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const pidFile = join(root, 'grandchild.pid');
    const yaml = DEMO_KILN_YAML.replace(
      'run: test -f out/lib/main.js && echo tests ok',
      `run: sleep 120 & echo $! > ${pidFile}; wait`,
    );
    makeRepo(repo, demoProject({ 'kiln.yaml': yaml }));
    const home = join(root, 'home');
    const child = spawn(
      process.execPath,
      [resolve(import.meta.dirname, '../../bin/kiln.js'), 'build', '--runner', 'host'],
      {
        cwd: repo,
        env: { ...process.env, KILN_HOME: home, KILN_SIGNING_KEY: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    // The shell creates the file before it writes the pid into it: wait for the pid itself.
    const pid = () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim() || 0) : 0);
    for (let i = 0; i < 200 && pid() === 0; i++) await sleep(50);
    const grandchild = pid();
    expect(grandchild).toBeGreaterThan(0);
    expect(alive(grandchild)).toBe(true);
    child.kill('SIGTERM');
    expect(await exited).toBe(130);
    expect(stderr).toContain('was interrupted');
    for (let i = 0; i < 100 && alive(grandchild); i++) await sleep(50);
    expect(alive(grandchild)).toBe(false);
    const [build] = JSON.parse(kiln(['builds', '--json'], { cwd: repo, home }).stdout);
    expect(build).toMatchObject({ status: 'failed', error: expect.stringContaining('was interrupted') });
  });
});
