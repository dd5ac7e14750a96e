import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { LayoutManifest } from '../../../src/registry/index.js';
import { planRetention, type RetentionInput, retentionReport } from '../../../src/retention/index.js';
import type { RetainedBuild } from '../../../src/store/index.js';
import type { PromotionRow } from '../../../src/store/retention.js';

const DAY = 86_400_000;
const d = (c: string): string => `sha256:${c.repeat(64).slice(0, 64)}`;
const manifestOf = (id: string): string => `sha256:${createHash('sha256').update(id).digest('hex')}`;

/** A build started `day` days after 2026-01-01, with one artifact `app` whose manifest is `manifest`. */
function build(
  id: string,
  branch: string | null,
  day: number,
  opts: { status?: RetainedBuild['status']; manifest?: string; project?: string } = {},
): RetainedBuild {
  const status = opts.status ?? 'succeeded';
  return {
    id,
    project: opts.project ?? 'demo',
    branch,
    status,
    commit: id.padEnd(40, '0'),
    startedAt: new Date(Date.UTC(2026, 0, 1) + day * DAY).toISOString(),
    artifacts:
      status === 'succeeded'
        ? [{ name: 'app', manifestDigest: opts.manifest ?? manifestOf(id), path: `/repo/kiln-out/app-${id}.tgz` }]
        : [],
  };
}

function promotion(manifest: string, environment: string, at: string, project = 'demo'): PromotionRow {
  return {
    id: `${environment}-${at}`,
    project,
    artifact_name: 'app',
    manifest_digest: manifest,
    environment,
    from_ref: `127.0.0.1:5000/demo@${manifest}`,
    to_ref: `127.0.0.1:5000/${environment}/demo:${environment}@${manifest}`,
    promoted_at: at,
    key_hint: 'kiln.pub',
    statement_digest: d('f'),
    announced_at: null,
  };
}

/** Layout entries: each artifact manifest with `evidence` referrers (digests of letters after the artifact's). */
function artifactInLayout(manifest: string, evidence: string[], ref?: string): LayoutManifest[] {
  return [
    {
      digest: manifest as `sha256:${string}`,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      refNames: ref ? [ref] : [],
    },
    ...evidence.map((e) => ({
      digest: e as `sha256:${string}`,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      refNames: [],
      subject: manifest as `sha256:${string}`,
    })),
  ];
}

function manifestEntry(digest: string, subject: string): LayoutManifest {
  return {
    digest: digest as `sha256:${string}`,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    refNames: [],
    subject: subject as `sha256:${string}`,
  };
}

function input(over: Partial<RetentionInput> & { builds: RetainedBuild[] }): RetentionInput {
  return {
    project: 'demo',
    policy: { keepLast: 1, rollbackDays: 30 },
    environments: {},
    now: new Date('2026-06-01T00:00:00Z'),
    layout: over.layout ?? { dir: '/home/.kiln/oci', manifests: [] },
    outputDir: '/repo/kiln-out',
    publishTo: null,
    ...over,
    records: {
      builds: over.builds,
      sharedElsewhere: [],
      promotions: [],
      publications: [],
      namesakes: [],
      ...over.records,
    },
  };
}

const kept = (plan: ReturnType<typeof planRetention>) => plan.builds.filter((b) => b.keep).map((b) => b.id);

describe('planRetention: keepLast per branch', () => {
  it('keeps the last N succeeded builds of each branch, builds without a branch as one group', () => {
    const plan = planRetention(
      input({
        builds: [
          build('m1', 'main', 1),
          build('m2', 'main', 2),
          build('m3', 'main', 3),
          build('f1', 'feat', 1),
          build('f2', 'feat', 2),
          build('n1', null, 1),
          build('n2', null, 5),
        ],
      }),
    );
    // Newest first; builds started at the same time by id, descending (as `kiln builds` lists them).
    expect(plan.builds.map((b) => b.id)).toEqual(['n2', 'm3', 'm2', 'f2', 'n1', 'm1', 'f1']);
    expect(kept(plan)).toEqual(['n2', 'm3', 'f2']);
    expect(plan.builds.find((b) => b.id === 'm3')?.reasons).toEqual([
      { kind: 'last-succeeded', branch: 'main', position: 1, keepLast: 1 },
    ]);
    expect(plan.builds.find((b) => b.id === 'n1')?.reasons).toEqual([
      { kind: 'older-succeeded', branch: null, keepLast: 1 },
    ]);
    expect(plan.store).toEqual({ remove: ['m2', 'n1', 'm1', 'f1'], keep: 3 });
  });

  it('keeps failed and blocked builds only while among the newest N builds of their branch', () => {
    const builds = [
      build('s2', 'main', 1),
      build('b1', 'main', 2, { status: 'blocked' }),
      build('s1', 'main', 3),
      build('x1', 'main', 4, { status: 'failed' }),
    ];
    const one = planRetention(input({ builds }));
    expect(kept(one)).toEqual(['x1', 's1']);
    expect(one.builds[0]?.reasons).toEqual([{ kind: 'last-attempt', branch: 'main', position: 1, keepLast: 1 }]);
    expect(one.builds.find((b) => b.id === 'b1')?.reasons).toEqual([
      { kind: 'older-attempt', branch: 'main', keepLast: 1 },
    ]);
    const two = planRetention(input({ builds, policy: { keepLast: 2, rollbackDays: 30 } }));
    expect(kept(two)).toEqual(['x1', 's1', 's2']); // b1 is the 3rd newest build; s2 the 2nd succeeded
  });

  it('keeps a running build, however old, without counting it among the newest', () => {
    const builds = [build('r1', 'main', 1, { status: 'running' }), build('s1', 'main', 2), build('s2', 'main', 3)];
    const plan = planRetention(input({ builds }));
    expect(kept(plan)).toEqual(['s2', 'r1']);
    expect(plan.builds.find((b) => b.id === 'r1')?.reasons).toEqual([
      { kind: 'running', startedAt: '2026-01-02T00:00:00.000Z' },
    ]);
    expect(retentionReport(plan).join('\n')).toMatch(
      /stays +r1 +running[^\n]*\n +still running \(started 2026-01-02T00:00:00Z\)/,
    );
  });
});

describe('planRetention: promotions', () => {
  const builds = [build('a1', 'main', 1), build('a2', 'main', 2), build('a3', 'main', 3), build('a4', 'main', 4)];
  const [m1, m2, m3] = [manifestOf('a1'), manifestOf('a2'), manifestOf('a3')];

  it('keeps the artifact each environment runs (its latest promotion), however old', () => {
    const plan = planRetention(
      input({
        builds,
        records: {
          builds,
          sharedElsewhere: [],
          namesakes: [],
          publications: [],
          promotions: [
            promotion(m2, 'staging', '2026-01-05T00:00:00Z'),
            promotion(m1, 'staging', '2026-01-06T00:00:00Z'), // rolled back to a1: a1 is live, a2 no longer
            promotion(m2, 'staging', '2026-01-04T00:00:00Z', 'other'), // another project's "staging"
          ],
        },
      }),
    );
    // a2 is live in the other project's "staging" (its latest row there, though older than demo's): live is per
    // project and environment, and a manifest live anywhere stays.
    expect(kept(plan)).toEqual(['a4', 'a2', 'a1']);
    const a1 = plan.builds.find((b) => b.id === 'a1');
    expect(a1?.reasons).toEqual([
      { kind: 'older-succeeded', branch: 'main', keepLast: 1 },
      { kind: 'artifact-kept', artifact: 'app' },
    ]);
    expect(a1?.artifacts[0]?.reasons).toEqual([
      { kind: 'live', project: 'demo', environment: 'staging', promotedAt: '2026-01-06T00:00:00Z' },
    ]);
    expect(plan.builds.find((b) => b.id === 'a2')?.artifacts[0]?.reasons).toEqual([
      { kind: 'live', project: 'other', environment: 'staging', promotedAt: '2026-01-04T00:00:00Z' },
    ]);
  });

  it('keeps what a protected environment got until rollbackDays after its last promotion there, not a moment longer', () => {
    const promotions = [
      promotion(m1, 'prod', '2026-01-10T00:00:00Z'),
      promotion(m1, 'prod', '2026-02-01T00:00:00Z'), // promoted again: the window runs from here
      promotion(m3, 'prod', '2026-02-05T00:00:00Z'), // what prod runs now
      promotion(m2, 'dev', '2026-01-20T00:00:00Z'), // dev is not protected and later runs m3
      promotion(m3, 'dev', '2026-02-04T00:00:00Z'),
    ];
    const at = (now: string) =>
      planRetention(
        input({
          builds,
          environments: { prod: { protected: true }, dev: { protected: false } },
          now: new Date(now),
          records: { builds, sharedElsewhere: [], promotions, publications: [], namesakes: [] },
        }),
      );
    const inside = at('2026-03-02T23:59:59.999Z'); // 2026-02-01 + 30 days = 2026-03-03T00:00:00Z
    expect(kept(inside)).toEqual(['a4', 'a3', 'a1']);
    expect(inside.builds.find((b) => b.id === 'a1')?.artifacts[0]?.reasons).toEqual([
      { kind: 'rollback', environment: 'prod', promotedAt: '2026-02-01T00:00:00Z', until: '2026-03-03T00:00:00.000Z' },
    ]);
    const after = at('2026-03-03T00:00:00Z');
    expect(kept(after)).toEqual(['a4', 'a3']);
    const a1 = after.builds.find((b) => b.id === 'a1');
    expect(a1?.artifacts[0]).toMatchObject({
      keep: false,
      reasons: [
        {
          kind: 'rollback-ended',
          environment: 'prod',
          promotedAt: '2026-02-01T00:00:00Z',
          until: '2026-03-03T00:00:00.000Z',
        },
      ],
    });
    // Promoted copies of going artifacts are listed for registry deletion (not done by gc yet).
    expect(after.registry.copies).toEqual([
      { manifest: m1, environment: 'prod', ref: `127.0.0.1:5000/prod/demo:prod@${m1}` },
      { manifest: m2, environment: 'dev', ref: `127.0.0.1:5000/dev/demo:dev@${m2}` },
    ]);
  });

  it('keeps an artifact promoted at a time it cannot read', () => {
    const plan = planRetention(
      input({
        builds,
        environments: { prod: { protected: true } },
        records: {
          builds,
          sharedElsewhere: [],
          namesakes: [],
          publications: [],
          promotions: [promotion(m3, 'prod', '2026-02-05T00:00:00Z'), promotion(m1, 'prod', 'last tuesday')],
        },
      }),
    );
    expect(plan.builds.find((b) => b.id === 'a1')?.artifacts[0]?.reasons).toContainEqual({
      kind: 'rollback',
      environment: 'prod',
      promotedAt: 'last tuesday',
      until: null,
    });
  });
});

describe('planRetention: the layout', () => {
  it('takes out a going artifact with its evidence (and evidence of evidence), and nothing a kept build needs', () => {
    const builds = [
      build('k1', 'main', 3, { manifest: d('a') }),
      build('g1', 'main', 2, { manifest: d('b') }),
      build('g2', 'main', 1, { manifest: d('a') }), // the same manifest as k1 (a --force rebuild of the commit)
      build('g3', 'feat', 0, { manifest: d('c') }),
      build('k2', 'feat', 4, { manifest: d('d') }),
    ];
    const manifests = [
      ...artifactInLayout(d('a'), [d('1'), d('2')], 'demo/app:k1'),
      ...artifactInLayout(d('b'), [d('3')], 'demo/app:g1'),
      {
        digest: d('4') as `sha256:${string}`,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        refNames: [],
        subject: d('3') as `sha256:${string}`,
      },
      ...artifactInLayout(d('c'), [d('5')], 'demo/app:g3'),
      ...artifactInLayout(d('e'), [d('6')], 'other/app:x'), // another project's
      // k2's manifest, odd as it is, names g1's as its subject: it stays, and so does what hangs off it.
      { ...manifestEntry(d('d'), d('b')), refNames: ['demo/app:k2'] },
      manifestEntry(d('7'), d('d')),
      ...artifactInLayout(d('9'), [], 'demo/app:unrecorded'), // published by a build not recorded (yet)
    ].sort((x, y) => (x.digest < y.digest ? -1 : 1));
    const plan = planRetention(
      input({
        builds,
        layout: { dir: '/home/.kiln/oci', manifests },
        records: {
          builds,
          promotions: [],
          publications: [],
          namesakes: [],
          sharedElsewhere: [{ manifestDigest: d('c'), buildId: 'o1', project: 'other' }],
        },
      }),
    );
    expect(kept(plan)).toEqual(['k2', 'k1']);
    expect(plan.layout.remove).toEqual([d('3'), d('4'), d('b')].sort());
    expect(plan.layout).toMatchObject({ artifacts: 1, evidence: 2, unrecorded: [d('9')] });
    const g2 = plan.builds.find((b) => b.id === 'g2')?.artifacts[0];
    expect(g2).toMatchObject({ keep: true, reasons: [{ kind: 'shared', buildId: 'k1', project: 'demo' }] });
    expect(g2?.evidence).toEqual([d('1'), d('2')]);
    expect(plan.builds.find((b) => b.id === 'g3')?.artifacts[0]?.reasons).toEqual([
      { kind: 'shared', buildId: 'o1', project: 'other' },
    ]);
    expect(plan.builds.find((b) => b.id === 'g1')?.artifacts[0]).toMatchObject({
      keep: false,
      inLayout: true,
      evidence: [d('3'), d('4')],
    });
    expect(plan.store.remove).toEqual(['g1', 'g2', 'g3']); // the rows go even when a manifest stays
    expect(Object.isFrozen(plan.layout.remove)).toBe(true);
  });

  it('reports every build with its reason, and the output directory once', () => {
    const builds = [build('k1', 'main', 2), build('g1', 'main', 1), build('x1', null, 0, { status: 'failed' })];
    const lines = retentionReport(
      planRetention(
        input({
          builds,
          layout: {
            dir: '/home/.kiln/oci',
            manifests: artifactInLayout(manifestOf('g1'), [d('7'), d('8')], 'demo/app:g1'),
          },
        }),
      ),
    );
    const text = lines.join('\n');
    expect(text).toContain('dry run: nothing is removed');
    expect(text).toMatch(/ {2}goes {3}g1 +succeeded +2026-01-02T00:00:00Z/);
    expect(text).toContain('older than the last 1 succeeded builds of main');
    expect(text).toContain(`artifact app ${manifestOf('g1').slice(0, 19)}… goes, with 2 evidence manifests`);
    expect(text).toContain('among the newest 1 builds of (no branch) (#1)');
    expect(text).toContain('layout: 1 artifact manifest and 2 evidence manifests go from /home/.kiln/oci/index.json');
    expect(lines.filter((l) => l.includes('/repo/kiln-out'))).toEqual([
      'left:   delivered files in /repo/kiln-out are yours; gc never removes them',
    ]);
  });
});
