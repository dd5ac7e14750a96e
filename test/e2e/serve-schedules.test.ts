// `kiln serve --config` runs the cron schedules of kiln-server.yaml: a schedule whose last run the store records as
// two days old is queued once when the server starts (its commit built by a worker), and SIGTERM stops the server
// while the scheduler sleeps towards the next tick.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scheduleKey } from '../../src/farm/schedule-times.js';
import { claimScheduleRun, openSqliteStore, scheduleRuns } from '../../src/store/index.js';
import { demoProject } from '../helpers/project.js';
import { KILN, makeRepo } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) child.kill('SIGKILL');
});

describe('kiln serve with schedules', () => {
  it('queues a schedule missed while it was down once at start, and stops on SIGTERM while it sleeps', async () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const home = join(root, 'home');
    const head = makeRepo(repo, demoProject());
    const schedule = { cron: '0 3 * * *', timezone: 'Europe/Paris', ref: 'main' };
    writeFileSync(
      join(root, 'kiln-server.yaml'),
      `projects:\n  - name: demo\n    repository: file://${repo}\n    schedules:\n      - { cron: "0 3 * * *", timezone: Europe/Paris }\n`,
    );
    mkdirSync(home, { recursive: true });
    const seeded = await openSqliteStore(join(home, 'store.db'));
    await claimScheduleRun(seeded, 'demo', scheduleKey(schedule), new Date(Date.now() - 2 * 86_400_000).toISOString());
    await seeded.close();

    const env = { ...process.env, KILN_HOME: home, KILN_SIGNING_KEY: '' };
    const args = ['serve', '--listen', '127.0.0.1:0', '--config', join(root, 'kiln-server.yaml')];
    const child = spawn(process.execPath, [KILN, ...args], { env, cwd: root });
    started.push(child);
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no scheduled build in 60 s:\n${out}`)), 60_000);
      const onData = (c: Buffer) => {
        out += c;
        if (/listening on/.test(out) && /queued job/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.on('exit', (code) => reject(new Error(`kiln serve exited ${code}:\n${out}`)));
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    expect(out.match(/schedule "0 3 \* \* \*" \(Europe\/Paris\) of demo for main: tick \S+ queued job/g)).toHaveLength(
      1,
    );
    const store = await openSqliteStore(join(home, 'store.db'));
    try {
      const [run] = await scheduleRuns(store);
      expect(run?.lastJobId).toBeTruthy();
      expect(Date.now() - Date.parse(run?.lastFireAt ?? '')).toBeLessThan(86_400_000);
      const jobs = await store.db.selectFrom('jobs').select(['id', 'project', 'commit_sha']).execute();
      expect(jobs).toEqual([{ id: run?.lastJobId, project: 'demo', commit_sha: head }]);
    } finally {
      await store.close();
    }
  });
});
