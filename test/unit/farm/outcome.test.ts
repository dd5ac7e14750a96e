// How a worker reports a build that threw: the build's own failure is never retried, the machine's is.
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../../src/core/errors.js';
import { outcomeOf } from '../../../src/farm/worker.js';

describe('outcomeOf', () => {
  it('counts a failing step or bad input as failed, a policy block as blocked, and the machine as infra', () => {
    const of = (code: ConstructorParameters<typeof KilnError>[0]) => outcomeOf(new KilnError(code, 'x'));
    expect(['KILN_STEP_FAILED', 'KILN_CONFIG_INVALID', 'KILN_LOCKFILE_INVALID'].map((c) => of(c as never))).toEqual([
      'failed',
      'failed',
      'failed',
    ]);
    expect(of('KILN_POLICY_BLOCKED')).toBe('blocked');
    expect(
      ['KILN_DISK_FULL', 'KILN_SOURCE_GIT', 'KILN_REGISTRY_HTTP', 'KILN_STORE'].map((c) => of(c as never)),
    ).toEqual(['infra', 'infra', 'infra', 'infra']);
    expect(outcomeOf(new TypeError('a bug'))).toBe('failed');
  });
});
