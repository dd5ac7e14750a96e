import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kiln, makeRepo } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

const LINE_BYTES = 50_000_000;

describe('step output', () => {
  it('a 50 MB line without a newline goes whole to the log, and only its start into the error message', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const home = join(root, 'home');
    makeRepo(repo, {
      'kiln.yaml': `name: flood
steps:
  flood:
    run: head -c ${LINE_BYTES} /dev/zero | tr '\\0' a; exit 3
    outputs: [out]
artifacts:
  - name: flood
    from: flood
    path: out
`,
    });
    const run = kiln(['build'], { cwd: repo, home });
    expect(run.stderr).toContain('step flood failed with exit code 3');
    expect(run.stderr).toMatch(/\| a{2000}… \(49998000 more characters\)\n/);
    expect(run.stderr.length).toBeLessThan(10_000); // the 50 MB line is not copied into the error
    const [build] = readdirSync(join(home, 'builds'));
    expect(statSync(join(home, 'builds', build ?? '', 'logs', 'flood.log')).size).toBe(LINE_BYTES);
  });
});
