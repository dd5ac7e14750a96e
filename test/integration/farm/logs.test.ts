// The log of a job's attempt in a real SQLite store: batched by count and by time, numbered, capped, read after a
// cursor; a store that refuses lines fails neither the listener nor a real build fed by it.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KilnEvent, TimedEvent } from '../../../src/core/events.js';
import { attemptLog, jobLogLines } from '../../../src/farm/logs.js';
import { openSqliteStore, readLogLines, type Store } from '../../../src/store/index.js';
import { startGitHttp } from '../../helpers/git-serve.js';
import { harness } from '../../helpers/harness.js';
import { DEMO_KILN_YAML, demoProject } from '../../helpers/project.js';
import { makeRepo } from '../../helpers/repo.js';
import { tempDir } from '../../helpers/tmp.js';

const AT = '2026-12-07T12:00:00.000Z';
const out = (step: string, line: string, stream: 'stdout' | 'stderr' = 'stdout'): TimedEvent => ({
  kind: 'step-output',
  step,
  stream,
  line,
  at: AT,
});
const timed = (event: KilnEvent): TimedEvent => ({ ...event, at: AT });

const freshStore = () => openSqliteStore(join(tempDir(), 'store.db'));
const stored = async (store: Store, job = 'job-1') => (await readLogLines(store, job)).map((r) => r.text);

/** Waits (briefly) until `check` holds. */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
}

describe("an attempt's log", () => {
  it('writes a batch once it has batchLines lines, the rest at flush; numbered from 1, with step and stream', async () => {
    const store = await freshStore();
    const log = attemptLog({ store, jobId: 'job-1', attempt: 2, flushMs: 60_000, batchLines: 3 });
    log.listener(timed({ kind: 'step-started', step: 'compile' }));
    log.listener(out('compile', 'one'));
    await new Promise((r) => setTimeout(r, 50));
    expect(await stored(store)).toEqual([]); // two lines wait for a third (or the timer, a minute away)
    log.listener(out('compile', 'two', 'stderr'));
    await until(async () => (await stored(store)).length === 3);
    expect(await stored(store)).toEqual(['step compile started', 'one', 'two']);
    log.listener(timed({ kind: 'cache-lookup', step: 'x', key: 'k', result: 'miss', why: 'new', bytes: 0 }));
    log.listener(timed({ kind: 'warning', message: 'disk is slow' }));
    await log.flush();
    const rows = await readLogLines(store, 'job-1');
    expect(rows.map((r) => [r.attempt, r.seq, r.step, r.stream, r.text, r.at])).toEqual([
      [2, 1, 'compile', 'kiln', 'step compile started', AT],
      [2, 2, 'compile', 'stdout', 'one', AT],
      [2, 3, 'compile', 'stderr', 'two', AT],
      [2, 4, null, 'kiln', 'warning: disk is slow', AT], // a cache lookup is for machines: no line
    ]);
    log.listener(out('compile', 'after the end')); // a flushed log takes nothing more
    await new Promise((r) => setTimeout(r, 50));
    expect(await stored(store)).toHaveLength(4);
    await store.close();
  });

  it('writes waiting lines after flushMs without being flushed', async () => {
    const store = await freshStore();
    const log = attemptLog({ store, jobId: 'job-1', attempt: 1, flushMs: 20, batchLines: 200 });
    log.listener(out('compile', 'soon'));
    await until(async () => (await stored(store)).length === 1);
    expect(await stored(store)).toEqual(['soon']);
    await log.flush();
    await store.close();
  });

  it('keeps at most maxLines lines of an attempt, the last one saying it was truncated', async () => {
    const store = await freshStore();
    const log = attemptLog({ store, jobId: 'job-1', attempt: 1, batchLines: 2, maxLines: 5 });
    for (let i = 1; i <= 1000; i++) log.listener(out('spam', `line ${i}`));
    await log.flush();
    const rows = await readLogLines(store, 'job-1');
    expect(rows.map((r) => r.text)).toEqual([
      'line 1',
      'line 2',
      'line 3',
      'line 4',
      'log truncated: only the first 5 lines of this attempt are kept',
    ]);
    expect(rows.at(-1)).toMatchObject({ step: 'spam', stream: 'kiln', seq: 5 });
    // …and at most maxChars characters.
    const chars = attemptLog({ store, jobId: 'job-2', attempt: 1, maxChars: 10 });
    for (const text of ['12345', '6789', 'abc', 'def']) chars.listener(out('spam', text));
    await chars.flush();
    expect(await stored(store, 'job-2')).toEqual([
      '12345',
      '6789',
      'log truncated: only the first 10 characters of this attempt are kept',
    ]);
    await store.close();
  });

  it('reads after a cursor, across attempts, one step if asked', async () => {
    const store = await freshStore();
    for (const attempt of [1, 2]) {
      const log = attemptLog({ store, jobId: 'job-1', attempt });
      log.listener(out('compile', `c${attempt}`));
      log.listener(out('test', `t${attempt}`));
      await log.flush();
    }
    const texts = async (query: Parameters<typeof jobLogLines>[2]) =>
      (await jobLogLines(store, 'job-1', query)).map((l) => `${l.attempt}:${l.seq} ${l.text}`);
    expect(await texts({})).toEqual(['1:1 c1', '1:2 t1', '2:1 c2', '2:2 t2']);
    expect(await texts({ after: { attempt: 1, seq: 1 } })).toEqual(['1:2 t1', '2:1 c2', '2:2 t2']);
    expect(await texts({ after: { attempt: 1, seq: 1 }, step: 'compile' })).toEqual(['2:1 c2']);
    expect(await texts({ limit: 1 })).toEqual(['1:1 c1']);
    expect(await jobLogLines(store, 'job-2', {})).toEqual([]);
    await store.close();
  });

  it('lets a real build succeed when the store refuses its lines, and says so once', async () => {
    const store = await freshStore();
    await store.close(); // every append now fails
    const logged: string[] = [];
    const log = attemptLog({
      store,
      jobId: 'job-1',
      attempt: 1,
      flushMs: 1,
      batchLines: 1,
      log: (m) => logged.push(m),
    });
    const repo = join(tempDir(), 'repo');
    makeRepo(repo, demoProject());
    const h = harness({ cwd: repo });
    try {
      const built = await h.kiln.build(
        { projectPath: repo, runner: 'host', allowDirty: false },
        { onEvent: log.listener },
      );
      expect(built.status).toBe('succeeded');
      await log.flush();
      expect(logged).toEqual([expect.stringMatching(/^job job-1 attempt 1: cannot store its log lines \(.+\)/)]);
      // The build's own sink saw every event as usual.
      expect(h.of('build-finished')).toHaveLength(1);
    } finally {
      await h.kiln.close();
    }
  });

  it('gives up waiting for a store that never answers after flushTimeoutMs, and says so', async () => {
    // A store whose inserts never end (a fake at the seam: the real ones answer or fail).
    const stuck = {
      db: { insertInto: () => ({ values: () => ({ execute: () => new Promise(() => {}) }) }) },
    } as unknown as Store;
    const logged: string[] = [];
    const log = attemptLog({
      store: stuck,
      jobId: 'job-1',
      attempt: 1,
      flushTimeoutMs: 50,
      log: (m) => logged.push(m),
    });
    log.listener(out('compile', 'never stored'));
    await log.flush();
    expect(logged).toEqual(['job job-1 attempt 1: the store took too long to take its last log lines']);
  });

  it("hands a real build's events to its listener, stamped, with each output line's stream", async () => {
    const repo = join(tempDir(), 'repo');
    makeRepo(repo, demoProject());
    const h = harness({ cwd: repo });
    const store = await freshStore();
    const log = attemptLog({ store, jobId: 'job-1', attempt: 1 });
    try {
      await h.kiln.build({ projectPath: repo, runner: 'host', allowDirty: false }, { onEvent: log.listener });
      await log.flush();
      const rows = await readLogLines(store, 'job-1');
      const output = h.of('step-output').map((e) => [e.step, e.stream, e.line]);
      expect(output.length).toBeGreaterThan(0);
      expect(rows.filter((r) => r.stream !== 'kiln').map((r) => [r.step, r.stream, r.text])).toEqual(output);
      expect(rows.at(-1)?.text).toMatch(/^build \S+ succeeded in \d+\.\ds$/);
    } finally {
      await h.kiln.close();
      await store.close();
    }
  });

  it('keeps the git credentials of a remote build out of its log, whatever the step prints', async () => {
    const root = tempDir();
    const password = 'Pa55-word-no-one-may-see';
    const secrets = [password, Buffer.from(`builder:${password}`).toString('base64')];
    // A step that prints its environment, git's view of the checkout and every file name it can see.
    const nosy = DEMO_KILN_YAML.replace(
      'run: test -f out/lib/main.js && echo tests ok',
      'run: env; git remote -v 2>&1; git config --list 2>&1; ls -la; echo tests ok',
    );
    makeRepo(join(root, 'served', 'repo'), demoProject({ 'kiln.yaml': nosy }));
    const server = await startGitHttp(join(root, 'served'), { username: 'builder', password });
    const h = harness({ cwd: root });
    const store = await freshStore();
    try {
      for (const [attempt, given] of [
        [1, 'not-the-password'],
        [2, password],
      ] as const) {
        const log = attemptLog({ store, jobId: 'job-1', attempt });
        const built = h.kiln.build(
          {
            projectPath: join(root, 'out'),
            runner: 'host',
            allowDirty: false,
            remote: {
              repository: `${server.url}/repo`,
              ref: 'main',
              credentials: { username: 'builder', password: given },
            },
          },
          { onEvent: log.listener },
        );
        if (attempt === 1) await expect(built).rejects.toThrow(/^cloning http:\/\/127\.0\.0\.1:\d+\/repo f/);
        else expect((await built).status).toBe('succeeded');
        await log.flush();
      }
      const text = (await readLogLines(store, 'job-1')).map((r) => r.text).join('\n');
      expect(text).toContain('tests ok'); // the step ran, and its output is in the log
      expect(text).toMatch(/^HOME=/m);
      for (const secret of [...secrets, 'not-the-password']) expect(text).not.toContain(secret);
    } finally {
      await h.kiln.close();
      await store.close();
      await server.stop();
    }
  });
});
