import { beforeEach, describe, expect, it } from 'vitest';
import { type BuildRecord, lastStepActions, recordBuild, type Store } from '../../../src/store/index.js';
import { type StoreDialectFactory, storeDialects } from '../../helpers/postgres.js';
import { buildRow } from '../../helpers/store.js';

const DIALECTS = storeDialects();
/** The dialect of the running test (set by each describe.each block). */
let current: StoreDialectFactory;

/** A build of `project` that recorded `actions`: step name → ingredients, or null for a failed attempt. */
function build(id: string, startedAt: string, actions: Record<string, string | null>, project = 'demo'): BuildRecord {
  return {
    build: buildRow(id, startedAt, project),
    steps: [],
    artifacts: [],
    evidence: [],
    stepActions: Object.entries(actions).map(([step, ingredients]) => ({
      build_id: id,
      step,
      project,
      action_key: `key-${id}-${step}`,
      cache: 'miss' as const,
      produced_by: ingredients === null ? null : id,
      outputs_digest: ingredients === null ? null : `sha256:${'d'.repeat(64)}`,
      ingredients: ingredients ?? '{"failed":true}',
      explanation: null,
    })),
  };
}

async function storeWith(...records: BuildRecord[]): Promise<Store> {
  const store = await current.fresh();
  for (const r of records) await recordBuild(store, r);
  return store;
}

describe.each(DIALECTS)('lastStepActions on $name', (dialect: StoreDialectFactory) => {
  beforeEach(() => {
    current = dialect;
  });
  it("gives each step's ingredients from its newest build, skipping failed attempts and other projects", async () => {
    const store = await storeWith(
      build('b1', '2024-01-01T00:00:01.000Z', { compile: '"c1"', test: '"t1"' }),
      build('b2', '2024-01-01T00:00:02.000Z', { compile: '"c2"', test: null }),
      build('b3', '2024-01-01T00:00:03.000Z', { compile: '"other"', test: '"other"' }, 'elsewhere'),
    );
    const found = await lastStepActions(store, 'demo', ['compile', 'test', 'lint']);
    expect(Object.fromEntries(found)).toEqual({ compile: '"c2"', test: '"t1"' });
    expect(await lastStepActions(store, 'demo', [])).toEqual(new Map());
    await store.close();
  });

  it('orders by start time, then by id, not by insertion', async () => {
    const store = await storeWith(
      build('b9', '2024-01-01T00:00:09.000Z', { compile: '"newest"' }),
      build('b2', '2024-01-01T00:00:01.000Z', { compile: '"older, recorded later"' }),
    );
    expect(await lastStepActions(store, 'demo', ['compile'])).toEqual(new Map([['compile', '"newest"']]));
    await store.close();
    const tie = await storeWith(
      build('b5', '2024-01-01T00:00:05.000Z', { compile: '"larger id"' }),
      build('b1', '2024-01-01T00:00:05.000Z', { compile: '"smaller id"' }),
    );
    expect(await lastStepActions(tie, 'demo', ['compile'])).toEqual(new Map([['compile', '"larger id"']]));
    await tie.close();
  });

  it('finds steps last recorded long before the latest builds, newest of them first', async () => {
    const later = Array.from({ length: 12 }, (_, i) =>
      build(`c${String(i).padStart(2, '0')}`, `2024-02-01T00:00:${String(i).padStart(2, '0')}.000Z`, {
        compile: `"c${i}"`,
        flaky: null,
      }),
    );
    const store = await storeWith(
      build('a1', '2024-01-01T00:00:01.000Z', { docs: '"d1"', flaky: '"f1"' }),
      build('a2', '2024-01-01T00:00:02.000Z', { docs: '"d2"' }),
      ...later,
    );
    const found = await lastStepActions(store, 'demo', ['compile', 'docs', 'flaky', 'never']);
    expect(Object.fromEntries(found)).toEqual({ compile: '"c11"', docs: '"d2"', flaky: '"f1"' });
    await store.close();
  });
});
