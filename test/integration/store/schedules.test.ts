// Schedule runs in a real store (SQLite and PostgreSQL): a tick is claimed once, whichever store handle claims it
// first, and never moves a run backwards; a baseline never overwrites a run; an outcome is written only for the tick
// it belongs to.
import { beforeEach, describe, expect, it } from 'vitest';
import {
  claimScheduleRun,
  recordScheduleBaseline,
  recordScheduleOutcome,
  scheduleRuns,
} from '../../../src/store/index.js';
import { type StoreDialectFactory, storeDialects } from '../../helpers/postgres.js';

const DIALECTS = storeDialects();
/** The dialect of the running test (set by each describe.each block). */
let current: StoreDialectFactory;

const T1 = '2026-12-06T02:00:00.000Z';
const T2 = '2026-12-07T02:00:00.000Z';

describe.each(DIALECTS)('schedule runs on $name', (dialect: StoreDialectFactory) => {
  beforeEach(() => {
    current = dialect;
  });
  it('claims each tick once across store handles, and only forwards', async () => {
    const file = await current.location();
    const a = await current.open(file);
    const b = await current.open(file);
    try {
      const claims = await Promise.all([a, b, a, b].map((s) => claimScheduleRun(s, 'demo', 'k', T1)));
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await claimScheduleRun(b, 'demo', 'k', '2026-12-05T02:00:00.000Z')).toBe(false); // older
      expect(await claimScheduleRun(b, 'demo', 'k', T2)).toBe(true);
      expect(await claimScheduleRun(a, 'other', 'k', T1)).toBe(true); // another project's schedule
      expect(await scheduleRuns(a)).toEqual([
        { project: 'demo', key: 'k', lastFireAt: T2, lastJobId: null, lastError: null },
        { project: 'other', key: 'k', lastFireAt: T1, lastJobId: null, lastError: null },
      ]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps a run over a baseline, and writes an outcome only for its own tick', async () => {
    const store = await current.fresh();
    try {
      await recordScheduleBaseline(store, 'demo', 'new', T1);
      await recordScheduleBaseline(store, 'demo', 'new', T2);
      await claimScheduleRun(store, 'demo', 'k', T2);
      await recordScheduleBaseline(store, 'demo', 'k', '2026-12-08T00:00:00.000Z');
      await recordScheduleOutcome(store, 'demo', 'k', T1, { jobId: 'stale' });
      await recordScheduleOutcome(store, 'demo', 'k', T2, { error: 'repository unreachable' });
      expect(await scheduleRuns(store)).toEqual([
        { project: 'demo', key: 'k', lastFireAt: T2, lastJobId: null, lastError: 'repository unreachable' },
        { project: 'demo', key: 'new', lastFireAt: T1, lastJobId: null, lastError: null },
      ]);
      await recordScheduleOutcome(store, 'demo', 'k', T2, { jobId: 'job-1' });
      expect((await scheduleRuns(store))[0]).toMatchObject({ lastJobId: 'job-1', lastError: null });
    } finally {
      await store.close();
    }
  });
});
