// Which events become log lines, and how they read: the lines the CLI's display shows, not the events for machines.
import { describe, expect, it } from 'vitest';
import { logLineOf } from '../../../src/farm/logs.js';

describe('logLineOf', () => {
  it("keeps a step's output with its stream, and says Kiln's own news in the kiln stream", () => {
    expect(logLineOf({ kind: 'step-output', step: 'compile', stream: 'stderr', line: 'oops' })).toEqual({
      step: 'compile',
      stream: 'stderr',
      text: 'oops',
    });
    const base = {
      kind: 'step-finished',
      step: 'test',
      durationMs: 1234,
      startedAt: 'a',
      finishedAt: 'b',
      network: false,
      logTail: ['secret-free tail'],
    } as const;
    expect(logLineOf({ ...base, status: 'failed', exitCode: 2 })).toEqual({
      step: 'test',
      stream: 'kiln',
      text: 'step test failed in 1.2s (exit 2)',
    });
    expect(logLineOf({ ...base, status: 'cached', exitCode: 0, cachedFrom: 'b-1' })?.text).toBe(
      'step test cached (from build b-1)',
    );
    expect(logLineOf({ kind: 'stage', stage: 'sign', detail: 'provenance' })).toEqual({
      step: null,
      stream: 'kiln',
      text: 'sign: provenance',
    });
    expect(logLineOf({ kind: 'build-finished', buildId: 'b-2', status: 'blocked', durationMs: 50 })?.text).toBe(
      'build b-2 blocked in 0.1s',
    );
  });

  it('leaves out the events only machines read', () => {
    expect(logLineOf({ kind: 'cache-stored', step: 's', key: 'k', bytes: 1 })).toBeUndefined();
    expect(logLineOf({ kind: 'progress', task: 'scan', done: 1 })).toBeUndefined();
    expect(
      logLineOf({
        kind: 'registry-request',
        registry: 'r',
        method: 'GET',
        path: '/v2/',
        status: 200,
        attempt: 1,
        bytes: 0,
        durationMs: 1,
      }),
    ).toBeUndefined();
  });
});
