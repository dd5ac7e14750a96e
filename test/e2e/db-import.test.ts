import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kiln } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

const KILN = resolve(import.meta.dirname, '../../bin/kiln.js');

/** A directory of `count` small, valid OSV records with ids `<prefix>-<n>`. */
function records(dir: string, prefix: string, count: number): string {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const record = {
      id: `${prefix}-${i}`,
      modified: '2026-01-01T00:00:00Z',
      affected: [{ package: { ecosystem: 'npm', name: `pkg-${prefix}-${i % 50}` }, versions: ['1.0.0'] }],
    };
    writeFileSync(join(dir, `${prefix}-${i}.json`), JSON.stringify(record));
  }
  return dir;
}

function run(args: string[], home: string): Promise<{ status: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [KILN, ...args], { env: { ...process.env, KILN_HOME: home } });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (status) => done({ status, stderr }));
  });
}

describe('kiln db import from several processes at once', () => {
  it('lets both finish, every batch whole, and moves the revision with every batch that changed records', async () => {
    const root = tempDir();
    const home = join(root, 'home');
    const a = records(join(root, 'a'), 'x_A', 2500);
    const b = records(join(root, 'b'), 'x_B', 2500);
    expect(kiln(['db', 'status', '--json'], { cwd: root, home }).stdout).toContain('"revision": 0');
    const [ra, rb] = await Promise.all([run(['db', 'import', a], home), run(['db', 'import', b], home)]);
    expect(ra.status, ra.stderr).toBe(0);
    expect(rb.status, rb.stderr).toBe(0);
    const status = JSON.parse(kiln(['db', 'status', '--json'], { cwd: root, home }).stdout);
    expect(status.records).toBe(5000);
    expect(status.revision).toBe(6); // 3 batches (1000, 1000, 500) per import
    // Importing the same data again changes nothing, so the revision stays.
    expect((await run(['db', 'import', a], home)).status).toBe(0);
    expect(JSON.parse(kiln(['db', 'status', '--json'], { cwd: root, home }).stdout).revision).toBe(6);
  });
});
