import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progressDisplay } from '../../../src/cli/progress.js';
import type { KilnEvent } from '../../../src/core/events.js';

function capture(live: boolean) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d) => {
    text += String(d);
  });
  let clock = 1000;
  const display = progressDisplay(stream, { live, now: () => clock });
  return { display, text: () => text, tick: (ms: number) => (clock += ms) };
}

const started = (dirty = false): KilnEvent => ({
  kind: 'build-started',
  buildId: 'b1',
  project: 'demo',
  commit: 'a'.repeat(40),
  subdir: '',
  dirty,
});

/** A step-finished event of `step` that took `durationMs`, started at midnight. */
const finished = (
  step: string,
  status: 'succeeded' | 'failed',
  exitCode: number,
  durationMs: number,
  logTail: string[] = [],
): KilnEvent => ({
  kind: 'step-finished',
  step,
  status,
  exitCode,
  durationMs,
  startedAt: '2026-12-07T00:00:00.000Z',
  finishedAt: new Date(Date.parse('2026-12-07T00:00:00.000Z') + durationMs).toISOString(),
  network: false,
  logTail,
});

describe('progress display', () => {
  it('prints plain lines without a terminal: step states, times, the failing step’s log tail', () => {
    const { display, text } = capture(false);
    display.onEvent(started());
    display.onEvent({ kind: 'step-started', step: 'compile' });
    display.onEvent(finished('compile', 'failed', 7, 1500, ['oops']));
    display.onEvent({ kind: 'build-finished', buildId: 'b1', status: 'failed', durationMs: 1600 });
    expect(text()).not.toContain('\x1b[');
    expect(text()).toContain('kiln: step compile started\n');
    expect(text()).toContain('kiln: step compile failed in 1.5s (exit 7)\n');
    expect(text()).toContain('  | oops\n');
    expect(text()).toContain('kiln: build b1 failed in 1.6s\n');
  });

  it('says when a step runs again after failing, and warns when it passed only then (flaky)', () => {
    const { display, text } = capture(false);
    display.onEvent(started());
    display.onEvent({ kind: 'step-started', step: 'test' });
    const retry = {
      kind: 'step-retry',
      step: 'test',
      maxAttempts: 3,
      exitCode: 1,
      durationMs: 5,
      logTail: [],
    } as const;
    display.onEvent({ ...retry, attempt: 1 });
    display.onEvent({ ...finished('test', 'succeeded', 0, 1500), attempts: 2 } as KilnEvent);
    display.onEvent(finished('lint', 'succeeded', 0, 100));
    expect(text()).toContain('kiln: step test failed (exit 1) on attempt 1 of 3; running it again (retries)\n');
    expect(text()).toContain('kiln: step test succeeded in 1.5s (exit 0)\n');
    expect(text()).toContain('kiln: warning: step test is flaky: it passed on attempt 2 after failing\n');
    expect(text()).not.toContain('step lint is flaky');
  });

  it('redraws a live table of steps with elapsed time on a terminal', () => {
    const { display, text, tick } = capture(true);
    display.onEvent(started(true));
    display.onEvent({ kind: 'step-started', step: 'compile' });
    tick(2500);
    display.onEvent({ kind: 'step-output', step: 'compile', stream: 'stdout', line: 'building module 3/9' });
    display.onEvent({ kind: 'notice', message: 'hello' });
    display.stop();
    expect(text()).toContain('(dirty tree)');
    expect(text()).toMatch(/… compile +running +2\.5s {2}building module 3\/9/);
    expect(text()).toContain('\x1b[1A\x1b[J'); // the table is redrawn in place
  });

  it('draws the step table once more at the end of a build, and not again under lines that come after it', () => {
    const { display, text } = capture(true);
    display.onEvent(started());
    display.onEvent({ kind: 'step-started', step: 'compile' });
    display.onEvent(finished('compile', 'succeeded', 0, 1000));
    display.onEvent({ kind: 'build-finished', buildId: 'b1', status: 'succeeded', durationMs: 1100 });
    const atEnd = text();
    display.onEvent({ kind: 'notice', message: 'publishing demo to 127.0.0.1:5000/team/demo' });
    display.stop();
    expect(text().slice(atEnd.length)).toBe('kiln: publishing demo to 127.0.0.1:5000/team/demo\n');
    expect(atEnd).toMatch(/✓ compile +succeeded +1\.0s\n/);
  });
});
