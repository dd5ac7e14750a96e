import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../../src/core/errors.js';
import type { BuildQueue } from '../../../src/farm/queue.js';
import { type StoreQueueOptions, storeQueue } from '../../../src/farm/store-queue.js';
import type { Store } from '../../../src/store/index.js';
import { type StoreDialectFactory, storeDialects } from '../../helpers/postgres.js';
import { tempDir } from '../../helpers/tmp.js';
import { transpileSources } from '../../helpers/transpile.js';

const T0 = Date.parse('2026-12-07T12:00:00.000Z');

const DIALECTS = storeDialects();

async function leasedId(queue: BuildQueue, worker: string, labels = {}, leaseMs = 60_000): Promise<string> {
  const lease = await queue.lease(worker, labels, leaseMs);
  return lease.kind === 'leased' ? lease.job.id : `none:${lease.reason}`;
}

describe.each(DIALECTS)('the build queue on $name', (dialect: StoreDialectFactory) => {
  /** A queue over a fresh store, with a clock the test moves. */
  async function fixture(options: Partial<StoreQueueOptions> = {}) {
    const file = await dialect.location();
    const store = await dialect.open(file);
    const clock = { t: T0 };
    const make = (s: Store) => storeQueue(s, { global: 10, perProject: 10, ...options, now: () => new Date(clock.t) });
    return { file, store, clock, queue: make(store), make };
  }

  it('keeps a job through submit, lease and completion in the store file, and ends it once', async () => {
    const { file, store, clock, queue } = await fixture();
    const { id, deduplicated } = await queue.submit({
      project: 'web',
      commit: 'abc',
      branch: 'main',
      payload: { repo: 'https://example.test/web.git' },
    });
    expect(deduplicated).toBe(false);
    const lease = await queue.lease('w1', {}, 30_000);
    expect(lease).toMatchObject({ kind: 'leased', job: { id, state: 'running', attempt: 1, workerId: 'w1' } });
    expect(lease.kind === 'leased' && lease.job.payload).toEqual({ repo: 'https://example.test/web.git' });
    clock.t += 1_000;
    expect(await queue.complete(id, 'w1', 'succeeded', 'build-1')).toBe(true);
    expect(await queue.complete(id, 'w1', 'failed')).toBe(false); // ended already: nothing changes
    expect(await queue.cancel(id)).toBe(false);
    await store.close();

    const again = await dialect.open(file);
    const job = await storeQueue(again, { global: 1, perProject: 1 }).get(id);
    await again.close();
    expect(job).toMatchObject({ state: 'succeeded', buildId: 'build-1', endedAt: T0 + 1_000, workerId: null });
    expect(job?.attempts).toEqual([
      { attempt: 1, workerId: 'w1', startedAt: T0, endedAt: T0 + 1_000, outcome: 'succeeded', buildId: 'build-1' },
    ]);
  });

  it('deduplicates the same project and commit unless forced, and records superseded jobs as cancelled', async () => {
    const { store, queue } = await fixture();
    const first = await queue.submit({ project: 'web', commit: 'c1', branch: 'feat', supersedable: true });
    expect(await queue.submit({ project: 'web', commit: 'c1', branch: 'feat' })).toEqual({
      id: first.id,
      deduplicated: true,
      superseded: [],
    });
    const forced = await queue.submit({ project: 'web', commit: 'c1', branch: 'other', force: true });
    expect(forced.deduplicated).toBe(false);
    expect(forced.id).not.toBe(first.id);
    const newer = await queue.submit({ project: 'web', commit: 'c2', branch: 'feat', supersedable: true });
    expect(newer.superseded).toEqual([first.id]);
    expect(await queue.get(first.id)).toMatchObject({ state: 'cancelled', supersededBy: newer.id });
    expect((await queue.list({ states: ['queued'] })).map((j) => j.id)).toEqual([newer.id, forced.id]);
    expect(await queue.list({ project: 'api' })).toEqual([]);
    await store.close();
  });

  it('dispatches by class, then FIFO, within the project limit and the worker labels', async () => {
    const { store, queue } = await fixture({ perProject: 1 });
    const low = await queue.submit({ project: 'a', commit: '1', priority: 'low' });
    const a2 = await queue.submit({ project: 'a', commit: '2' });
    const b1 = await queue.submit({ project: 'b', commit: '1', priority: 'critical', labels: { arch: 'arm64' } });
    const b2 = await queue.submit({ project: 'b', commit: '2', priority: 'high' });
    expect(await leasedId(queue, 'x86', { arch: 'amd64' })).toBe(b2.id); // b1 needs arm64
    expect(await leasedId(queue, 'x86', { arch: 'amd64' })).toBe(a2.id);
    expect(await leasedId(queue, 'arm', { arch: 'arm64' })).toBe('none:limits'); // b runs b2; a runs a2
    expect(await queue.complete(b2.id, 'x86', 'failed')).toBe(true);
    expect(await leasedId(queue, 'arm', { arch: 'arm64' })).toBe(b1.id);
    expect(await queue.complete(a2.id, 'x86', 'succeeded')).toBe(true);
    expect(await leasedId(queue, 'x86', {})).toBe(low.id);
    expect(await leasedId(queue, 'x86', {})).toBe('none:empty');
    await store.close();
  });

  it('takes a job back from a worker whose lease expired: the old worker can neither extend nor end it', async () => {
    const { store, clock, queue } = await fixture();
    const { id } = await queue.submit({ project: 'web', commit: 'c', maxAttempts: 2 });
    await queue.lease('w1', {}, 1_000);
    clock.t += 900;
    expect(await queue.heartbeat(id, 'w1', 1_000)).toBe(true); // now held until T0 + 1900
    expect(await queue.heartbeat(id, 'w2', 1_000)).toBe(false); // not its lease
    clock.t = T0 + 1_900;
    expect(await queue.heartbeat(id, 'w1', 1_000)).toBe(false);
    expect(await leasedId(queue, 'w2', {}, 1_000)).toBe(id);
    expect(await queue.complete(id, 'w1', 'succeeded')).toBe(false); // the lost worker comes back
    const job = await queue.get(id);
    expect(job).toMatchObject({ state: 'running', attempt: 2, workerId: 'w2' });
    expect(job?.attempts.map((a) => [a.workerId, a.outcome])).toEqual([['w1', 'lost']]);

    clock.t += 5_000;
    expect(await queue.reap()).toEqual({ requeued: [], lost: [id] }); // out of attempts
    expect(await queue.reap()).toEqual({ requeued: [], lost: [] });
    expect(await queue.complete(id, 'w2', 'succeeded')).toBe(false);
    expect(await queue.get(id)).toMatchObject({ state: 'lost', endedAt: clock.t });
    await store.close();
  });

  it('retries an infrastructure failure after its backoff, never a step failure', async () => {
    const { store, clock, queue } = await fixture();
    const { id } = await queue.submit({ project: 'web', commit: 'c' });
    await queue.lease('w1', {}, 60_000);
    expect(await queue.complete(id, 'w1', 'infra')).toBe(true);
    expect(await leasedId(queue, 'w1')).toBe('none:backoff');
    clock.t += 5_000;
    expect(await leasedId(queue, 'w2')).toBe(id);
    expect(await queue.complete(id, 'w2', 'failed', 'b2')).toBe(true);
    expect(await queue.get(id)).toMatchObject({ state: 'failed', attempt: 2, buildId: 'b2' });
    expect(await leasedId(queue, 'w2')).toBe('none:empty');
    await store.close();
  });

  it('cancels a running job so its worker cannot end it, and requeues expired leases on reap', async () => {
    const { store, clock, queue } = await fixture();
    const a = await queue.submit({ project: 'web', commit: 'a' });
    const b = await queue.submit({ project: 'web', commit: 'b' });
    await queue.lease('w1', {}, 1_000);
    await queue.lease('w2', {}, 1_000);
    expect(await queue.cancel(a.id)).toBe(true);
    expect(await queue.cancel(a.id)).toBe(false);
    expect(await queue.cancel('no-such-job')).toBe(false);
    expect(await queue.heartbeat(a.id, 'w1', 1_000)).toBe(false);
    expect(await queue.complete(a.id, 'w1', 'succeeded')).toBe(false);
    expect(await queue.get(a.id)).toMatchObject({ state: 'cancelled', supersededBy: null });
    expect(await queue.reap(new Date(T0 + 999))).toEqual({ requeued: [], lost: [] });
    clock.t += 1_000;
    expect(await queue.reap()).toEqual({ requeued: [b.id], lost: [] });
    expect(await queue.get(b.id)).toMatchObject({ state: 'queued', attempt: 1, workerId: null });
    await store.close();
  });

  it('reports depth and oldest wait per class for autoscaling', async () => {
    const { store, clock, queue } = await fixture({ classes: ['urgent', 'batch'] });
    await queue.submit({ project: 'a', commit: '1', priority: 'batch' });
    clock.t += 2_000;
    await queue.submit({ project: 'a', commit: '2', priority: 'batch' });
    await queue.submit({ project: 'a', commit: '3', priority: 'urgent' });
    await queue.lease('w', {}, 60_000); // the urgent one
    expect(await queue.stats(new Date(T0 + 10_000))).toEqual({
      classes: [
        { priority: 'urgent', depth: 0, oldestWaitMs: 0 },
        { priority: 'batch', depth: 2, oldestWaitMs: 10_000 },
      ],
      running: 1,
    });
    await store.close();
  });

  it('refuses an invalid submission with every problem, and invalid rules', async () => {
    const { store, queue } = await fixture();
    const err = await queue.submit({ project: 'web', commit: '', priority: 'urgent' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).code).toBe('KILN_USAGE');
    expect((err as KilnError).message).toContain('commit: must be a non-empty string');
    expect((err as KilnError).message).toContain('priority: "urgent" is not a class');
    expect(await queue.list()).toEqual([]); // nothing was queued
    expect(() => storeQueue(store, { global: 0, perProject: 1 })).toThrow(/limits|invalid/);
    await expect(queue.lease('w', {}, 0)).rejects.toThrow(/lease of 0 ms/);
    const { id } = await queue.submit({ project: 'web', commit: 'c' });
    await queue.lease('w', {}, 60_000);
    await expect(queue.complete(id, 'w', 'lost' as never)).rejects.toThrow(/not an outcome a worker reports/);
    expect(await queue.get(id)).toMatchObject({ state: 'running', workerId: 'w' });
    await store.close();
  });
});

describe.each(DIALECTS)('two processes dispatching from one store on $name', (dialect: StoreDialectFactory) => {
  it('never lease the same job', async () => {
    const dir = tempDir();
    const js = transpileSources(join(dir, 'js'));
    const script = join(js, 'lease.mjs');
    writeFileSync(
      script,
      [
        "import { existsSync } from 'node:fs';",
        "const { openStore } = await import('./store/index.js');",
        "const { storeQueue } = await import('./farm/store-queue.js');",
        'const [file, go, worker] = process.argv.slice(2);',
        'const store = await openStore(file);',
        'const queue = storeQueue(store, { global: 1000, perProject: 1000 });',
        "process.stdout.write('ready\\n');",
        'while (!existsSync(go)) await new Promise((r) => setTimeout(r, 2));',
        'const ids = [];',
        'for (;;) {',
        '  const lease = await queue.lease(worker, {}, 60000);',
        "  if (lease.kind === 'none') break;",
        '  ids.push(lease.job.id);',
        '  await new Promise((r) => setTimeout(r, 1)); // a worker does something between leases',
        '}',
        'await store.close();',
        "process.stdout.write(JSON.stringify(ids) + '\\n');",
      ].join('\n'),
    );
    const file = await dialect.location();
    const store = await dialect.open(file);
    const queue = storeQueue(store, { global: 1000, perProject: 1000 });
    const submitted: string[] = [];
    for (let i = 0; i < 150; i++) submitted.push((await queue.submit({ project: `p${i % 7}`, commit: `c${i}` })).id);

    const go = join(dir, 'go');
    const children = ['wa', 'wb'].map((worker) => leaser(script, [file, go, worker]));
    await Promise.all(children.map((c) => c.ready));
    writeFileSync(go, '');
    const [a, b] = await Promise.all(children.map((c) => c.done));
    expect(a?.length).toBeGreaterThan(0);
    expect(b?.length).toBeGreaterThan(0);
    expect([...(a ?? []), ...(b ?? [])].sort()).toEqual([...submitted].sort()); // each job once, none missing
    const jobs = await queue.list({ limit: 1000 });
    expect(jobs.every((j) => j.state === 'running' && j.attempt === 1)).toBe(true);
    expect(
      jobs
        .filter((j) => j.workerId === 'wa')
        .map((j) => j.id)
        .sort(),
    ).toEqual([...(a ?? [])].sort());
    await store.close();
  });
});

/** A child process that leases until the queue is empty; `ready` once it has opened the store. */
function leaser(script: string, args: string[]): { ready: Promise<void>; done: Promise<string[]> } {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => {
    markReady = r;
  });
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('ready\n')) markReady();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const done = new Promise<string[]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      markReady();
      if (code !== 0) reject(new Error(`leaser exited ${code}: ${err}`));
      else resolve(JSON.parse(out.slice('ready\n'.length)) as string[]);
    });
  });
  return { ready, done };
}
