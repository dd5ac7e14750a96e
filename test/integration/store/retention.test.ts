import { beforeEach, describe, expect, it } from 'vitest';
import { type BuildRecord, deleteBuilds, recordBuild, retentionRecords, type Store } from '../../../src/store/index.js';
import { type StoreDialectFactory, storeDialects } from '../../helpers/postgres.js';
import { buildRow } from '../../helpers/store.js';

const DIALECTS = storeDialects();
/** The dialect of the running test (set by each describe.each block). */
let current: StoreDialectFactory;

const digest = (c: string) => `sha256:${c.repeat(64)}`;

/** A build with every kind of child row: a step, an artifact with its manifest, evidence and a step action. */
function record(
  id: string,
  startedAt: string,
  opts: { project?: string; branch?: string | null; manifest: string; repoUrl?: string },
): BuildRecord {
  const row = buildRow(id, startedAt, opts.project ?? 'demo');
  return {
    build: { ...row, repo_url: opts.repoUrl ?? row.repo_url, branch: opts.branch ?? null },
    steps: [
      { build_id: id, name: 'compile', status: 'succeeded', exit_code: 0, duration_ms: 5, log_path: null, position: 0 },
    ],
    artifacts: [
      {
        build_id: id,
        name: 'app',
        digest: digest('b'),
        size: 3,
        path: `/out/${id}.tgz`,
        manifest_digest: opts.manifest,
      },
    ],
    evidence: [
      {
        build_id: id,
        artifact_name: 'app',
        kind: 'sbom',
        media_type: 'application/vnd.cyclonedx+json',
        digest: digest('c'),
        path: `/out/${id}.cdx.json`,
        manifest_digest: digest('d'),
      },
    ],
    stepActions: [
      {
        build_id: id,
        step: 'compile',
        project: opts.project ?? 'demo',
        action_key: digest('e'),
        cache: 'miss',
        produced_by: id,
        outputs_digest: digest('f'),
        ingredients: '{}',
        explanation: null,
      },
    ],
  };
}

/** Project demo of the repository buildRow records. */
const DEMO = { project: 'demo', repoUrl: 'file:///repo', subdir: '' };

async function counts(store: Store): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['builds', 'steps', 'artifacts', 'evidence', 'step_actions', 'promotions'] as const) {
    const row = await store.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    out[table] = Number(row.n);
  }
  return out;
}

describe.each(DIALECTS)('the store as retention reads and deletes it on $name', (dialect: StoreDialectFactory) => {
  beforeEach(() => {
    current = dialect;
  });
  it('reads only the builds of the project in this repository: a namesake elsewhere is another project', async () => {
    const store = await current.fresh();
    try {
      await recordBuild(store, record('b1', '2026-01-01T00:00:00Z', { manifest: digest('1') }));
      const theirs = { repoUrl: 'https://example.com/someone-else/demo.git' };
      await recordBuild(store, record('t1', '2026-01-02T00:00:00Z', { ...theirs, manifest: digest('1') }));
      await recordBuild(store, record('t2', '2026-01-03T00:00:00Z', { ...theirs, manifest: digest('3') }));
      const ours = await retentionRecords(store, DEMO);
      expect(ours.builds.map((b) => b.id)).toEqual(['b1']);
      expect(ours.sharedElsewhere).toEqual([{ manifestDigest: digest('1'), buildId: 't1', project: 'demo' }]);
      expect([...ours.namesakes].sort()).toEqual([digest('1'), digest('3')].sort());
      const other = await retentionRecords(store, { ...DEMO, repoUrl: theirs.repoUrl });
      expect(other.builds.map((b) => b.id)).toEqual(['t2', 't1']);
    } finally {
      await store.close();
    }
  });

  it('reads a project’s builds newest first with branch and artifacts, who else shares a manifest, and promotions', async () => {
    const store = await current.fresh();
    try {
      await recordBuild(store, record('b1', '2026-01-01T00:00:00Z', { branch: 'main', manifest: digest('1') }));
      await recordBuild(store, record('b2', '2026-01-02T00:00:00Z', { branch: null, manifest: digest('2') }));
      await recordBuild(store, record('o1', '2026-01-03T00:00:00Z', { project: 'other', manifest: digest('2') }));
      await store.db
        .insertInto('promotions')
        .values({
          id: 'p1',
          project: 'demo',
          artifact_name: 'app',
          manifest_digest: digest('1'),
          environment: 'prod',
          from_ref: 'r/demo@x',
          to_ref: 'r/prod@x',
          promoted_at: '2026-01-05T00:00:00Z',
          key_hint: 'k',
          statement_digest: digest('9'),
        })
        .execute();
      const read = await retentionRecords(store, DEMO);
      expect(read.builds).toEqual([
        {
          id: 'b2',
          project: 'demo',
          branch: null,
          status: 'succeeded',
          commit: 'a'.repeat(40),
          startedAt: '2026-01-02T00:00:00Z',
          artifacts: [{ name: 'app', manifestDigest: digest('2'), path: '/out/b2.tgz' }],
        },
        {
          id: 'b1',
          project: 'demo',
          branch: 'main',
          status: 'succeeded',
          commit: 'a'.repeat(40),
          startedAt: '2026-01-01T00:00:00Z',
          artifacts: [{ name: 'app', manifestDigest: digest('1'), path: '/out/b1.tgz' }],
        },
      ]);
      expect(read.sharedElsewhere).toEqual([{ manifestDigest: digest('2'), buildId: 'o1', project: 'other' }]);
      expect(read.promotions.map((p) => p.id)).toEqual(['p1']);
    } finally {
      await store.close();
    }
  });

  it('deletes builds with every child row in one transaction, and nothing else', async () => {
    const store = await current.fresh();
    try {
      for (const [i, id] of ['b1', 'b2', 'b3'].entries()) {
        await recordBuild(store, record(id, `2026-01-0${i + 1}T00:00:00Z`, { manifest: digest(String(i)) }));
      }
      expect(await counts(store)).toEqual({
        builds: 3,
        steps: 3,
        artifacts: 3,
        evidence: 3,
        step_actions: 3,
        promotions: 0,
      });
      expect(await deleteBuilds(store, ['b1', 'b3', 'missing'])).toEqual(['b1', 'b3']);
      expect(await counts(store)).toEqual({
        builds: 1,
        steps: 1,
        artifacts: 1,
        evidence: 1,
        step_actions: 1,
        promotions: 0,
      });
      expect((await retentionRecords(store, DEMO)).builds.map((b) => b.id)).toEqual(['b2']);
      expect(await deleteBuilds(store, [])).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
