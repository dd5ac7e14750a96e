import { describe, expect, it } from 'vitest';
import { DEFAULT_CLASSES, type Job, type JobSubmission } from '../../../src/farm/job.js';
import {
  admit,
  afterAttempt,
  cancelled,
  expiredLeases,
  leased,
  pickNext,
  type QueueRules,
  retryDelay,
  submissionProblems,
} from '../../../src/farm/policy.js';
import { queueStats } from '../../../src/farm/stats.js';

const RULES: QueueRules = { classes: DEFAULT_CLASSES, global: 10, perProject: 10 };
const T0 = Date.parse('2026-12-07T12:00:00.000Z');
let counter = 0;

/** A job admitted into an empty queue (so with every default applied), changed by `over`. */
function job(s: Partial<JobSubmission> = {}, over: Partial<Job> = {}): Job {
  counter += 1;
  const submission = { project: 'web', commit: `c${counter}`, ...s, id: `j${counter}`, seq: counter };
  const admission = admit({ jobs: [] }, submission, RULES, T0 + counter);
  if (admission.kind !== 'queued') throw new Error('an empty queue admits');
  return { ...admission.job, ...over };
}

function running(j: Job, worker = 'w1', leaseMs = 60_000): Job {
  return leased(j, worker, leaseMs, T0);
}

function picked(jobs: Job[], labels = {}, rules = RULES, now = T0 + 1_000_000): string {
  const next = pickNext({ jobs }, { labels }, rules, now);
  return next.kind === 'lease' ? next.job.id : `none:${next.reason}`;
}

describe('admit', () => {
  it('queues a new job with the defaults: class normal, three attempts, not forced, not supersedable', () => {
    const a = admit({ jobs: [] }, { id: 'x', seq: 7, project: 'web', commit: 'abc' }, RULES, T0);
    expect(a).toEqual({
      kind: 'queued',
      cancel: [],
      job: expect.objectContaining({ id: 'x', seq: 7, state: 'queued', priority: 'normal', maxAttempts: 3 }),
    });
    expect(a.kind === 'queued' && a.job).toMatchObject({ submittedAt: T0, availableAt: T0, attempt: 0, branch: null });
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('answers a second submission of the same project and commit with the active job, queued or running', () => {
    const queued = job({ commit: 'abc' });
    const s = { id: 'new', seq: 99, project: 'web', commit: 'abc' };
    expect(admit({ jobs: [queued] }, s, RULES, T0)).toEqual({ kind: 'duplicate', of: queued.id });
    const busy = running(job({ commit: 'def' }));
    expect(admit({ jobs: [busy] }, { ...s, commit: 'def' }, RULES, T0)).toEqual({ kind: 'duplicate', of: busy.id });
  });

  it('queues the same commit again when forced, or for another project', () => {
    const queued = job({ commit: 'abc' });
    const s = { id: 'new', seq: 99, project: 'web', commit: 'abc' };
    expect(admit({ jobs: [queued] }, { ...s, force: true }, RULES, T0).kind).toBe('queued');
    expect(admit({ jobs: [queued] }, { ...s, project: 'api' }, RULES, T0).kind).toBe('queued');
  });

  it('supersedes only the queued jobs of the same project and branch, recording by which job', () => {
    const older = job({ branch: 'feat', supersedable: true });
    const busy = running(job({ branch: 'feat', supersedable: true }));
    const otherBranch = job({ branch: 'fix', supersedable: true });
    const otherProject = job({ project: 'api', branch: 'feat', supersedable: true });
    const s = { id: 'new', seq: 99, project: 'web', commit: 'zzz', branch: 'feat', supersedable: true };
    const a = admit({ jobs: [older, busy, otherBranch, otherProject] }, s, RULES, T0 + 500);
    if (a.kind !== 'queued') throw new Error('queued expected');
    expect(a.cancel).toEqual([{ ...older, state: 'cancelled', supersededBy: 'new', endedAt: T0 + 500 }]);
  });

  it('never supersedes when the new job or the queued one is not supersedable, or there is no branch', () => {
    const older = job({ branch: 'main', supersedable: false });
    const s = { id: 'new', seq: 99, project: 'web', commit: 'zzz', branch: 'main' };
    const cancels = (jobs: Job[], extra: Partial<JobSubmission>) => {
      const a = admit({ jobs }, { ...s, ...extra }, RULES, T0);
      return a.kind === 'queued' ? a.cancel.map((j) => j.id) : ['duplicate'];
    };
    expect(cancels([older], { supersedable: true })).toEqual([]); // the queued one is protected
    const feature = job({ branch: 'main', supersedable: true });
    expect(cancels([feature], { supersedable: false })).toEqual([]); // the new one does not supersede
    const detached = job({ supersedable: true });
    expect(cancels([detached], { supersedable: true, branch: null })).toEqual([]); // no branch, nothing to match
  });

  it('lists every problem of a submission with its path', () => {
    const bad = { project: '', commit: 'abc', priority: 'urgent', maxAttempts: 0, labels: { arch: 1 } } as never;
    expect(submissionProblems(bad, DEFAULT_CLASSES)).toEqual([
      'project: must be a non-empty string',
      'priority: "urgent" is not a class (classes: critical, high, normal, low)',
      'maxAttempts: must be an integer of at least 1, not 0',
      'labels.arch: must be a string',
    ]);
    expect(submissionProblems({ project: 'web', commit: 'abc', priority: 'low' }, DEFAULT_CLASSES)).toEqual([]);
  });
});

describe('pickNext', () => {
  it('takes the higher class first, and FIFO within a class', () => {
    const low = job({ priority: 'low' });
    const normal1 = job({ priority: 'normal' });
    const critical = job({ priority: 'critical' });
    const normal2 = job({ priority: 'normal' });
    expect(picked([low, normal1, critical, normal2])).toBe(critical.id);
    expect(picked([low, normal2, normal1])).toBe(normal1.id); // by submission order, not list order
    expect(picked([low])).toBe(low.id);
  });

  it('follows the configured class order', () => {
    const a = job({ priority: 'normal' });
    const b = job({ priority: 'low' });
    expect(picked([a, b], {}, { ...RULES, classes: ['low', 'normal'] })).toBe(b.id);
  });

  it('holds a project at its concurrency while other projects go on', () => {
    const busy = running(job({ project: 'web' }));
    const web = job({ project: 'web', priority: 'critical' });
    const api = job({ project: 'api', priority: 'low' });
    const rules = { ...RULES, perProject: 1 };
    expect(picked([busy, web, api], {}, rules)).toBe(api.id);
    expect(picked([busy, web], {}, rules)).toBe('none:limits');
    expect(picked([busy, web], {}, { ...rules, projects: { web: 2 } })).toBe(web.id); // a project's own limit
  });

  it('dispatches nothing while the global limit of jobs run', () => {
    const busy = [running(job({ project: 'a' })), running(job({ project: 'b' }))];
    const next = job({ project: 'c' });
    expect(picked([...busy, next], {}, { ...RULES, global: 2 })).toBe('none:limits');
    expect(picked([...busy, next], {}, { ...RULES, global: 3 })).toBe(next.id);
  });

  it('gives a worker only jobs whose labels it all has', () => {
    const arm = job({ labels: { arch: 'arm64', os: 'linux' } });
    const any = job();
    expect(picked([arm], { arch: 'arm64' })).toBe('none:labels');
    expect(picked([arm], { arch: 'amd64', os: 'linux' })).toBe('none:labels');
    expect(picked([arm], { arch: 'arm64', os: 'linux', gpu: 'yes' })).toBe(arm.id);
    expect(picked([arm, any], { arch: 'amd64' })).toBe(any.id);
    expect(picked([job({ labels: { toString: 'x' } })], {})).toBe('none:labels'); // no inherited keys
  });

  it('says why there is nothing: empty, only waiting for a retry', () => {
    expect(picked([])).toBe('none:empty');
    expect(picked([running(job())])).toBe('none:empty');
    const waiting = job({}, { availableAt: T0 + 5_000 });
    expect(picked([waiting], {}, RULES, T0 + 4_999)).toBe('none:backoff');
    expect(picked([waiting], {}, RULES, T0 + 5_000)).toBe(waiting.id);
  });
});

describe('leases and attempts', () => {
  it('starts an attempt with a lease until now + leaseMs', () => {
    expect(leased(job(), 'w9', 30_000, T0)).toMatchObject({
      state: 'running',
      attempt: 1,
      workerId: 'w9',
      leasedAt: T0,
      leaseUntil: T0 + 30_000,
    });
  });

  it('finds the running jobs whose lease has expired', () => {
    const a = running(job(), 'w1', 1_000);
    const b = running(job(), 'w2', 5_000);
    expect(expiredLeases({ jobs: [a, b, job()] }, T0 + 999)).toEqual([]);
    expect(expiredLeases({ jobs: [a, b, job()] }, T0 + 1_000).map((j) => j.id)).toEqual([a.id]);
    expect(expiredLeases({ jobs: [b, a] }, T0 + 9_000).map((j) => j.id)).toEqual([a.id, b.id]);
  });

  it('requeues a lost lease at once and records the attempt lost, until the attempts run out', () => {
    let j = running(job({ maxAttempts: 2 }), 'w1', 1_000);
    j = afterAttempt(j, 'lost', T0 + 1_000);
    expect(j).toMatchObject({ state: 'queued', attempt: 1, workerId: null, leaseUntil: null, availableAt: T0 + 1_000 });
    expect(j.attempts).toEqual([
      { attempt: 1, workerId: 'w1', startedAt: T0, endedAt: T0 + 1_000, outcome: 'lost', buildId: null },
    ]);
    j = afterAttempt(leased(j, 'w2', 1_000, T0 + 2_000), 'lost', T0 + 3_000);
    expect(j).toMatchObject({ state: 'lost', attempt: 2, endedAt: T0 + 3_000 });
    expect(j.attempts.map((a) => [a.workerId, a.outcome])).toEqual([
      ['w1', 'lost'],
      ['w2', 'lost'],
    ]);
  });

  it('retries an infrastructure failure after 5 s, 10 s, … and ends the job lost after maxAttempts', () => {
    let j = running(job());
    j = afterAttempt(j, 'infra', T0 + 100, 'b1');
    expect(j).toMatchObject({ state: 'queued', availableAt: T0 + 5_100, buildId: 'b1' });
    j = afterAttempt(leased(j, 'w', 1_000, T0 + 6_000), 'infra', T0 + 7_000);
    expect(j).toMatchObject({ state: 'queued', availableAt: T0 + 17_000 });
    j = afterAttempt(leased(j, 'w', 1_000, T0 + 20_000), 'infra', T0 + 21_000);
    expect(j).toMatchObject({ state: 'lost', attempt: 3, endedAt: T0 + 21_000 });
  });

  it('never retries a step failure or a blocked build, and ends a success', () => {
    for (const outcome of ['succeeded', 'failed', 'blocked'] as const) {
      const j = afterAttempt(running(job({ maxAttempts: 5 })), outcome, T0 + 10, 'b7');
      expect(j).toMatchObject({ state: outcome, attempt: 1, endedAt: T0 + 10, buildId: 'b7' });
      expect(j.attempts).toHaveLength(1);
    }
  });

  it('doubles the retry delay from 5 s, capped at 5 minutes', () => {
    expect([1, 2, 3, 4].map(retryDelay)).toEqual([5_000, 10_000, 20_000, 40_000]);
    expect(retryDelay(30)).toBe(300_000);
  });

  it('cancels a queued job, a running one with its attempt recorded, and leaves an ended one alone', () => {
    expect(cancelled(job(), T0 + 1)).toMatchObject({ state: 'cancelled', endedAt: T0 + 1, supersededBy: null });
    const r = cancelled(running(job()), T0 + 2);
    expect(r).toMatchObject({ state: 'cancelled', workerId: null, leaseUntil: null });
    expect(r.attempts.map((a) => a.outcome)).toEqual(['cancelled']);
    const done = afterAttempt(running(job()), 'succeeded', T0 + 3);
    expect(cancelled(done, T0 + 4)).toBe(done);
  });
});

describe('queueStats', () => {
  it('counts the queued jobs of each class and the oldest wait, configured classes first', () => {
    const a = job({ priority: 'high' }, { submittedAt: T0 });
    const b = job({ priority: 'high' }, { submittedAt: T0 + 2_000 });
    const c = job({ priority: 'low' }, { submittedAt: T0 + 1_000 });
    const r = running(job({ priority: 'critical' }));
    expect(queueStats({ jobs: [a, b, c, r] }, DEFAULT_CLASSES, T0 + 10_000)).toEqual({
      classes: [
        { priority: 'critical', depth: 0, oldestWaitMs: 0 },
        { priority: 'high', depth: 2, oldestWaitMs: 10_000 },
        { priority: 'normal', depth: 0, oldestWaitMs: 0 },
        { priority: 'low', depth: 1, oldestWaitMs: 9_000 },
      ],
      running: 1,
    });
  });
});
