// When schedules fire, at fixed instants: croner in each schedule's time zone (a daily 03:00 in Paris stays 03:00
// across the change of summer time), one run however many ticks were missed, none before the tick, and a schedule
// first seen only gets a baseline.
import { describe, expect, it } from 'vitest';
import type { Schedule } from '../../../src/config/index.js';
import {
  dueRuns,
  latestTick,
  nextFireAt,
  nextTick,
  type ProjectSchedule,
  scheduleKey,
} from '../../../src/farm/schedule-times.js';

const paris: Schedule = { cron: '0 3 * * *', timezone: 'Europe/Paris', ref: 'main' };
const nightly: ProjectSchedule = { project: 'demo', schedule: paris, key: scheduleKey(paris) };
const at = (iso: string) => new Date(iso);
const iso = (d: Date | null) => d?.toISOString() ?? null;
const ran = (s: ProjectSchedule, lastFireAt: string) => ({ project: s.project, key: s.key, lastFireAt });

describe('schedule ticks', () => {
  it('keeps 03:00 Paris time across the end of summer time (01:00 UTC, then 02:00 UTC)', () => {
    expect(iso(nextTick(paris, at('2026-10-24T00:00:00Z')))).toBe('2026-10-24T01:00:00.000Z');
    expect(iso(nextTick(paris, at('2026-10-24T01:00:00Z')))).toBe('2026-10-25T02:00:00.000Z');
    expect(iso(nextTick(paris, at('2026-10-25T02:00:00Z')))).toBe('2026-10-26T02:00:00.000Z');
  });

  it('keeps 03:00 Paris time across the start of summer time (02:00 UTC, then 01:00 UTC)', () => {
    expect(iso(nextTick(paris, at('2026-03-27T12:00:00Z')))).toBe('2026-03-28T02:00:00.000Z');
    expect(iso(nextTick(paris, at('2026-03-28T02:00:00Z')))).toBe('2026-03-29T01:00:00.000Z');
    expect(iso(latestTick(paris, at('2026-03-29T12:00:00Z')))).toBe('2026-03-29T01:00:00.000Z');
  });

  it('takes a tick at exactly now as the latest one, and the one after as the next', () => {
    expect(iso(latestTick(paris, at('2026-10-25T02:00:00Z')))).toBe('2026-10-25T02:00:00.000Z');
    expect(iso(latestTick(paris, at('2026-10-25T01:59:59.999Z')))).toBe('2026-10-24T01:00:00.000Z');
  });

  it('fires each schedule in its own time zone, and the earliest of them next', () => {
    const utc: Schedule = { cron: '0 3 * * *', timezone: 'UTC', ref: 'main' };
    const tokyo: Schedule = { cron: '0 3 * * *', timezone: 'Asia/Tokyo', ref: 'main' };
    const all = [utc, tokyo, paris].map((schedule) => ({ project: 'demo', schedule, key: scheduleKey(schedule) }));
    expect(iso(nextFireAt(all, at('2026-12-07T00:00:00Z')))).toBe('2026-12-07T02:00:00.000Z'); // Paris, UTC+1
    expect(iso(nextFireAt(all, at('2026-12-07T02:00:00Z')))).toBe('2026-12-07T03:00:00.000Z'); // UTC
    expect(iso(nextFireAt(all, at('2026-12-07T03:00:00Z')))).toBe('2026-12-07T18:00:00.000Z'); // Tokyo, UTC+9
    expect(nextFireAt([], at('2026-12-07T03:00:00Z'))).toBeNull();
  });

  it('keys a schedule by its cron, time zone and ref', () => {
    expect(scheduleKey(paris)).toMatch(/^[0-9a-f]{64}$/);
    expect(scheduleKey({ ...paris })).toBe(scheduleKey(paris));
    expect(scheduleKey({ ...paris, ref: 'release' })).not.toBe(scheduleKey(paris));
    expect(scheduleKey({ ...paris, timezone: 'UTC' })).not.toBe(scheduleKey(paris));
    expect(scheduleKey({ ...paris, cron: '0 4 * * *' })).not.toBe(scheduleKey(paris));
  });
});

describe('dueRuns', () => {
  it('runs a schedule missed for three days once, for its latest tick', () => {
    // Last ran at the 2026-10-23 tick; the server was down until 2026-10-26 12:00 UTC, across the change of time.
    const plan = dueRuns([nightly], [ran(nightly, '2026-10-23T01:00:00.000Z')], at('2026-10-26T12:00:00Z'));
    expect(plan.baselines).toEqual([]);
    expect(plan.due.map((d) => [d.project, d.key, iso(d.tick)])).toEqual([
      ['demo', nightly.key, '2026-10-26T02:00:00.000Z'],
    ]);
  });

  it('runs nothing before the next tick, and the tick once it has come', () => {
    const last = [ran(nightly, '2026-10-25T02:00:00.000Z')];
    expect(dueRuns([nightly], last, at('2026-10-26T01:59:59Z')).due).toEqual([]);
    expect(dueRuns([nightly], last, at('2026-10-25T02:00:00Z')).due).toEqual([]); // the run of this very tick
    expect(dueRuns([nightly], last, at('2026-10-26T02:00:00Z')).due.map((d) => iso(d.tick))).toEqual([
      '2026-10-26T02:00:00.000Z',
    ]);
  });

  it('gives a schedule without a recorded run a baseline, not a run', () => {
    const plan = dueRuns([nightly], [], at('2026-10-26T12:00:00Z'));
    expect(plan.due).toEqual([]);
    expect(plan.baselines).toEqual([nightly]);
    // Its baseline (now) then makes it due only at its next tick.
    const baseline = [ran(nightly, '2026-10-26T12:00:00.000Z')];
    expect(dueRuns([nightly], baseline, at('2026-10-26T23:00:00Z')).due).toEqual([]);
    expect(dueRuns([nightly], baseline, at('2026-10-27T02:00:00Z')).due).toHaveLength(1);
  });

  it('tells schedules apart by project and key: an edited schedule is a new one', () => {
    const release: Schedule = { ...paris, ref: 'release' };
    const edited: ProjectSchedule = { project: 'demo', schedule: release, key: scheduleKey(release) };
    const other: ProjectSchedule = { ...nightly, project: 'other' };
    const plan = dueRuns(
      [nightly, edited, other],
      [ran(nightly, '2026-10-20T01:00:00.000Z')],
      at('2026-10-26T12:00:00Z'),
    );
    expect(plan.due.map((d) => [d.project, d.schedule.ref])).toEqual([['demo', 'main']]);
    expect(plan.baselines).toEqual([edited, other]);
  });
});
