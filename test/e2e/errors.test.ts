// What the CLI shows of a failure, and the JSON event log: every error line carries its stable code, --json carries
// it on stdout, and KILN_LOG=json turns stderr into one JSON event per line.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/core/errors.js';
import { demoProject } from '../helpers/project.js';
import { kiln, makeRepo } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

describe('errors and event logs of the CLI', () => {
  it('prints the stable code on every error line, and its exit status', () => {
    const cwd = tempDir();
    const r = kiln(['verify', 'missing.tgz'], { cwd, home: join(cwd, 'home') });
    expect(r.status).toBe(ERROR_CODES.KILN_NOT_FOUND.exit);
    expect(r.stderr).toMatch(/^kiln: error KILN_NOT_FOUND: cannot read the bundle .*missing\.tgz\.sigstore\.json/);
    expect(r.stderr).toContain('  hint: pass --bundle');
    const usage = kiln(['build', '--runner', 'docker'], { cwd, home: join(cwd, 'home') });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('kiln: error KILN_USAGE: unknown --runner "docker"');
  });

  it('puts the error on stdout as JSON with --json', () => {
    const cwd = tempDir();
    const r = kiln(['verify', 'missing.tgz', '--json'], { cwd, home: join(cwd, 'home') });
    expect(r.status).toBe(2);
    const out = JSON.parse(r.stdout) as { error: Record<string, unknown> };
    expect(out.error).toMatchObject({
      code: 'KILN_NOT_FOUND',
      exitStatus: 2,
      hint: expect.stringContaining('--bundle'),
    });
  });

  it('writes every event as a JSON line on stderr with KILN_LOG=json', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    makeRepo(repo, demoProject());
    const r = kiln(['build', '--runner', 'host'], { cwd: repo, home: join(root, 'home'), env: { KILN_LOG: 'json' } });
    expect(r.status).toBe(0);
    const events = r.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string; at: string });
    const kinds = events.map((e) => e.kind);
    expect(kinds).toContain('build-started');
    expect(kinds).toContain('cache-lookup');
    expect(kinds).toContain('step-finished');
    expect(kinds.at(-1)).toBe('build-finished');
    for (const e of events) expect(e.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('keeps stderr pure JSON with KILN_LOG=json when a command fails, the error as its last line', () => {
    const cwd = tempDir();
    const r = kiln(['build', '--runner', 'docker'], { cwd, home: join(cwd, 'home'), env: { KILN_LOG: 'json' } });
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.at(-1)).toMatchObject({
      kind: 'error',
      code: 'KILN_USAGE',
      exitStatus: 2,
      message: 'unknown --runner "docker"',
    });
  });
});
