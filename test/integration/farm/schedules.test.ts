// The scheduler over the real build service, queue and store, and a real git repository served as file://: a
// schedule last run two days ago runs once when the scheduler starts (and not again on the next start), a schedule
// first seen only records a baseline, a repository that cannot be reached is logged and recorded without stopping the
// others, a tick that comes while the loop sleeps is submitted, and stop() ends a sleep at once.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerConfig } from '../../../src/app/index.js';
import { latestTick, scheduleKey } from '../../../src/farm/schedule-times.js';
import { type Scheduler, startScheduler } from '../../../src/farm/schedules.js';
import { type BuildService, type BuildSubmission, buildService } from '../../../src/farm/service.js';
import { storeQueue } from '../../../src/farm/store-queue.js';
import { claimScheduleRun, type Store, scheduleRuns } from '../../../src/store/index.js';
import { harness } from '../../helpers/harness.js';
import { demoProject } from '../../helpers/project.js';
import { makeRepo } from '../../helpers/repo.js';
import { fileTempDir } from '../../helpers/tmp.js';

const root = fileTempDir();
const repo = join(root, 'repo');
const head = makeRepo(repo, demoProject());
const h = harness({ cwd: root, home: fileTempDir('kiln-home-') });

const nightly = { cron: '0 3 * * *', timezone: 'Europe/Paris', ref: 'main' };
const early = { cron: '0 4 * * *', timezone: 'UTC', ref: 'main' };
const DAY = 24 * 60 * 60 * 1000;

let config: ServerConfig;
let store: Store;
let service: BuildService;
let queue: ReturnType<typeof storeQueue>;
const submitted: BuildSubmission[] = [];
const logged: string[] = [];
/** The service as the scheduler sees it: every submission is noted, then made for real. */
const counting = (onSubmit: () => void = () => {}) => ({
  submit: (s: BuildSubmission) => {
    submitted.push(s);
    onSubmit();
    return service.submit(s);
  },
});
const queued = async () => (await queue.list({ states: ['queued', 'running'], limit: 100 })).map((j) => j.project);

beforeAll(async () => {
  const file = join(root, 'kiln-server.yaml');
  writeFileSync(
    file,
    [
      'projects:',
      '  - name: demo',
      `    repository: file://${repo}`,
      '    schedules:',
      `      - { cron: "${nightly.cron}", timezone: ${nightly.timezone}, ref: main }`,
      `      - { cron: "${early.cron}", timezone: ${early.timezone} }`,
      '  - name: gone',
      `    repository: file://${root}/no-such-repository`,
      '    schedules:',
      '      - { cron: "0 3 * * *" }',
      '',
    ].join('\n'),
  );
  config = await h.kiln.loadServerConfig(file);
  store = await h.ports.store();
  queue = storeQueue(store, { global: 1, perProject: 1 });
  // No worker is started: the jobs stay queued, to be counted.
  service = buildService({
    kiln: h.kiln,
    queue,
    store,
    version: 'test',
    config,
    secrets: { env: {}, readFile: async () => '' },
    deliveryDir: join(root, 'out'),
  });
});
afterAll(async () => {
  await h.kiln.close();
});

describe('the scheduler', () => {
  it('runs a schedule missed for two days once at start, and nothing on the next start', async () => {
    const twoDaysAgo = new Date(Date.now() - 2 * DAY).toISOString();
    await claimScheduleRun(store, 'demo', scheduleKey(nightly), twoDaysAgo);
    await claimScheduleRun(store, 'gone', scheduleKey({ cron: '0 3 * * *', timezone: 'UTC', ref: 'main' }), twoDaysAgo);

    const first = startScheduler({ config, store, service: counting(), log: (m) => logged.push(m) });
    await first.started;
    const startedAt = new Date();
    await first.stop();

    // The unreachable repository is tried after demo's and fails; demo's build is queued once, at its exact commit.
    expect(submitted).toEqual([
      { project: 'demo', ref: 'main' },
      { project: 'gone', ref: 'main' },
    ]);
    const jobs = await queue.list({ states: ['queued'], limit: 100 });
    expect(jobs.map((j) => [j.project, j.commit])).toEqual([['demo', head]]);
    const runs = await scheduleRuns(store);
    const run = (project: string, key: string) => runs.find((r) => r.project === project && r.key === key);
    expect(run('demo', scheduleKey(nightly))).toMatchObject({
      lastFireAt: latestTick(nightly, startedAt)?.toISOString(),
      lastJobId: jobs[0]?.id,
      lastError: null,
    });
    // First seen: a baseline at start, no build.
    const baseline = run('demo', scheduleKey(early));
    expect(baseline).toMatchObject({ lastJobId: null, lastError: null });
    expect(Date.parse(baseline?.lastFireAt ?? '')).toBeGreaterThan(Date.parse(twoDaysAgo));
    // Attempted: its tick is recorded with the reason, and logged.
    const gone = runs.find((r) => r.project === 'gone');
    expect(gone).toMatchObject({
      lastJobId: null,
      lastFireAt: latestTick({ cron: '0 3 * * *', timezone: 'UTC', ref: 'main' }, startedAt)?.toISOString(),
    });
    expect(gone?.lastError).toBeTruthy();
    expect(logged.filter((m) => m.includes(' of gone ') && m.includes('could not be queued'))).toHaveLength(1);

    const second = startScheduler({ config, store, service: counting(), log: (m) => logged.push(m) });
    await second.started;
    await second.stop();
    expect(submitted).toHaveLength(2);
    expect(await queued()).toEqual(['demo']);
  });

  it('submits a tick that comes while it sleeps, and stop() ends the sleep at once', async () => {
    // Every second (croner's six-field form, which kiln-server.yaml does not accept, so the test waits 1 s at most).
    const everySecond = { cron: '* * * * * *', timezone: 'UTC', ref: 'main' };
    const demo = config.projects.find((p) => p.name === 'demo');
    if (!demo) throw new Error('no demo project');
    const often: ServerConfig = { ...config, projects: [{ ...demo, schedules: [everySecond] }] };
    const before = submitted.length;
    let ticked: () => void = () => {};
    const tick = new Promise<void>((resolve) => {
      ticked = resolve;
    });
    const scheduler = startScheduler({
      config: often,
      store,
      service: counting(() => ticked()),
      log: (m) => logged.push(m),
    });
    await scheduler.started;
    expect(submitted).toHaveLength(before); // first seen: a baseline only
    await tick;
    await scheduler.stop();
    expect(submitted.length).toBeGreaterThan(before);
    expect(submitted.at(-1)).toEqual({ project: 'demo', ref: 'main' });

    // The nightly schedule sleeps for hours: stop() must not wait for it.
    const sleeper: Scheduler = startScheduler({ config, store, service: counting(), log: (m) => logged.push(m) });
    await sleeper.started;
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise((resolve) => {
      timer = setTimeout(resolve, 5_000, 'still sleeping');
    });
    expect(await Promise.race([sleeper.stop().then(() => 'stopped'), giveUp])).toBe('stopped');
    clearTimeout(timer);
  });
});
