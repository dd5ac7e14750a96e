import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kiln, makeRepo } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

/** Builds a one-step project whose step runs `run` under kiln.yaml `limits` (and a short timeout, to be safe). */
function buildWithLimits(limits: string, run: string) {
  const root = tempDir();
  const repo = join(root, 'repo');
  makeRepo(repo, {
    'kiln.yaml': `name: limits
limits: ${limits}
steps:
  greedy:
    run: ${JSON.stringify(run)}
    timeout: 30
    outputs: [out]
artifacts:
  - name: limits
    from: greedy
    path: out
`,
  });
  return kiln(['build'], { cwd: repo, home: join(root, 'home') });
}

describe('step limits', () => {
  it('a fork bomb stops at the process limit, and the error says so', () => {
    const run = buildWithLimits('{ processes: 16 }', 'i=0; while [ $i -lt 200 ]; do sleep 5 & i=$((i+1)); done; wait');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('KILN_STEP_LIMIT');
    expect(run.stderr).toContain('step greedy hit its process limit (16)');
    expect(run.stderr).toContain('raise limits.processes in kiln.yaml');
  });

  it('a memory hog stops at the memory limit', () => {
    const run = buildWithLimits('{ memory: 64 }', 'awk \'BEGIN { s = "x"; while (1) s = s s }\'');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('step greedy hit its memory limit (64 MiB)');
    expect(run.stderr).toContain('raise limits.memory in kiln.yaml');
  });

  it('a step opening too many files hits the open files limit', () => {
    const run = buildWithLimits(
      '{ openFiles: 32 }',
      "bash -c 'for i in $(seq 100); do exec {fd}</dev/null || exit 7; done'",
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('step greedy hit its open files limit (32 per process)');
  });

  it('a step flooding its output is stopped at the output limit', () => {
    const run = buildWithLimits(
      '{ output: 1 }',
      'yes 0123456789012345678901234567890123456789012345678901234567890123456789',
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('step greedy hit its output limit (1 MiB)');
    expect(run.stderr).toContain('raise limits.output in kiln.yaml');
  });

  it('the defaults leave an ordinary step alone', () => {
    const run = buildWithLimits('{}', 'mkdir out && seq 1000 > out/n && node -e "1"');
    expect(run.stderr).not.toContain('KILN_STEP');
    expect(run.status).toBe(0);
  });
});
