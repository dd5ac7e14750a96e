import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kilnPaths } from '../../src/core/home.js';
import { readLayoutManifests, referencedBlobs } from '../../src/registry/index.js';
import { planRetention, type RetentionPlan, removePlannedManifests } from '../../src/retention/index.js';
import { openSqliteStore, retentionRecords } from '../../src/store/index.js';
import { loadOciSchemas } from '../helpers/oci.js';
import { DEMO_KILN_YAML, demoProject } from '../helpers/project.js';
import { startRegistry } from '../helpers/registry.js';
import { git, kiln, makeRepo } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

/** Retention and environments in a registry started by the test (gc asks it about copies of what goes). */
const policy = (registry: string) => `retention:
  keepLast: 1
  rollbackDays: 1
environments:
  staging:
    repository: ${registry}/demo/staging
  prod:
    repository: ${registry}/demo/prod
    after: staging
    protected: true
`;
const HOUR = 3_600_000;

interface Gc {
  dryRun: boolean;
  plan: RetentionPlan;
  applied: null | {
    manifestsRemoved: number;
    buildsDeleted: number;
    buildDirsRemoved: number;
    blobs: { removed: { digest: string }[] };
  };
}

function build(repo: string, home: string, args: string[] = [], expectStatus = 0): string {
  const r = kiln(['build', '--json', ...args], { cwd: repo, home });
  if (r.status !== expectStatus) throw new Error(`kiln build exited ${r.status}:\n${r.stderr}`);
  if (expectStatus === 0) return JSON.parse(r.stdout).buildId;
  return JSON.parse(kiln(['builds', '--json', '--limit', '1'], { cwd: repo, home }).stdout)[0].id; // a failed build
}

function commit(repo: string, file: string, text: string): void {
  writeFileSync(join(repo, file), text);
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-qm', `change ${file}`]);
}

/** `kiln gc` run as if `later` from now (libfaketime: the CLI's clock, not the files' times). */
function gc(repo: string, home: string, later: string, args: string[] = []) {
  const r = kiln(['gc', ...args], { cwd: repo, home, fakeTime: later });
  if (r.status !== 0) throw new Error(`kiln gc exited ${r.status}:\n${r.stderr}`);
  return r;
}

/** Everything gc could touch: index.json, the blobs (name, size, mtime), the build dirs and the store's builds. */
function snapshot(repo: string, home: string) {
  const blobs = join(home, 'oci', 'blobs', 'sha256');
  return {
    index: readFileSync(join(home, 'oci', 'index.json'), 'utf8'),
    blobs: readdirSync(blobs)
      .sort()
      .map((n) => `${n} ${statSync(join(blobs, n)).size} ${statSync(join(blobs, n)).mtimeMs}`),
    buildDirs: readdirSync(join(home, 'builds')).sort(),
    builds: kiln(['builds', '--json', '--limit', '100'], { cwd: repo, home }).stdout,
    delivered: readdirSync(join(repo, 'kiln-out'))
      .sort()
      .map((n) => `${n} ${readFileSync(join(repo, 'kiln-out', n)).length}`),
  };
}

/** The layout validates against the OCI schemas and every blob it reaches exists; returns the blob names. */
async function expectValidLayout(oci: string): Promise<string[]> {
  const schemas = await loadOciSchemas();
  const index = JSON.parse(readFileSync(join(oci, 'index.json'), 'utf8'));
  expect(schemas.index(index)).toEqual([]);
  for (const entry of index.manifests) {
    expect(
      schemas.manifest(JSON.parse(readFileSync(join(oci, 'blobs', 'sha256', entry.digest.slice(7)), 'utf8'))),
    ).toEqual([]);
  }
  const { digests, missing } = await referencedBlobs(oci);
  expect(missing).toEqual([]);
  for (const d of digests) expect(existsSync(join(oci, 'blobs', 'sha256', d.slice(7)))).toBe(true);
  return [...digests].map((d) => d.slice(7)).sort();
}

describe('kiln gc', () => {
  it('keeps the last N builds per branch, the live and the protected artifacts, and removes exactly the rest', async () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const home = join(root, 'home');
    const registry = await startRegistry();
    makeRepo(repo, demoProject({ 'kiln.yaml': `${DEMO_KILN_YAML}${policy(registry.host)}` }));
    const old = build(repo, home); // main, never promoted: goes
    commit(repo, 'src/a.js', 'export const a = 1;\n');
    const live = build(repo, home); // main, what staging runs: stays
    commit(repo, 'src/b.js', 'export const b = 2;\n');
    const rollback = build(repo, home); // main, promoted to prod 12 h ago: stays for a day
    commit(repo, 'src/c.js', 'export const c = 3;\n');
    const newest = build(repo, home); // main: the last succeeded build
    git(repo, ['checkout', '-qb', 'feat']);
    commit(repo, 'src/d.js', 'export const d = 4;\n');
    const feat1 = build(repo, home); // feat, older: goes, but its manifest stays (the detached build below has it)
    git(repo, ['checkout', '-q', '--detach']);
    const detached = build(repo, home, ['--force']); // no branch, same commit and artifact as feat1
    git(repo, ['checkout', '-q', 'feat']);
    commit(repo, 'src/e.js', 'export const e = 5;\n');
    const feat2 = build(repo, home);
    git(repo, ['checkout', '-q', 'main']);
    commit(repo, 'kiln.yaml', `${DEMO_KILN_YAML.replace('echo tests ok', 'exit 3')}${policy(registry.host)}`);
    const failed = build(repo, home, [], 1); // main, newest: a failed build among the newest 1 stays

    const recorded = JSON.parse(kiln(['builds', '--json'], { cwd: repo, home }).stdout) as {
      id: string;
      branch: string | null;
    }[];
    expect(Object.fromEntries(recorded.map((b) => [b.id, b.branch]))).toEqual({
      [old]: 'main',
      [live]: 'main',
      [rollback]: 'main',
      [newest]: 'main',
      [failed]: 'main',
      [feat1]: 'feat',
      [feat2]: 'feat',
      [detached]: null,
    });

    // Promotions as `kiln promote` records them: staging ran `rollback`, then was rolled back to `live`; prod got
    // `rollback` 12 h ago and `newest` since.
    const now = Date.now();
    const store = await openSqliteStore(kilnPaths(home).store);
    const manifestOf = async (id: string) =>
      (
        await store.db
          .selectFrom('artifacts')
          .select('manifest_digest')
          .where('build_id', '=', id)
          .executeTakeFirstOrThrow()
      ).manifest_digest;
    const promote = async (id: string, environment: string, agoMs: number) => {
      const manifest = await manifestOf(id);
      await store.db
        .insertInto('promotions')
        .values({
          id: `${environment}-${id}`,
          project: 'demo',
          artifact_name: 'demo',
          manifest_digest: manifest,
          environment,
          from_ref: `${registry.host}/demo@${manifest}`,
          to_ref: `${registry.host}/demo/${environment}:${environment}@${manifest}`,
          promoted_at: new Date(now - agoMs).toISOString(),
          key_hint: 'default',
          statement_digest: manifest,
        })
        .execute();
    };
    await promote(rollback, 'staging', 14 * HOUR);
    await promote(rollback, 'prod', 12 * HOUR);
    await promote(live, 'staging', 3 * HOUR);
    await promote(newest, 'prod', 1 * HOUR);
    const oldManifest = await manifestOf(old);
    await store.close();

    // Dry run, two hours from now (the blobs are then older than the one-hour grace): nothing changes.
    const before = snapshot(repo, home);
    const dry = JSON.parse(gc(repo, home, '+2 hours', ['--json']).stdout) as Gc;
    expect(snapshot(repo, home)).toEqual(before);
    expect(dry.dryRun).toBe(true);
    const fate = (plan: RetentionPlan) => Object.fromEntries(plan.builds.map((b) => [b.id, b.keep ? 'stays' : 'goes']));
    expect(fate(dry.plan)).toEqual({
      [failed]: 'stays',
      [newest]: 'stays',
      [rollback]: 'stays',
      [live]: 'stays',
      [old]: 'goes',
      [feat2]: 'stays',
      [feat1]: 'goes',
      [detached]: 'stays',
    });
    const goneArtifact = dry.plan.builds.find((b) => b.id === old)?.artifacts[0];
    expect(goneArtifact?.evidence).toHaveLength(7); // provenance, 2 SBOMs, 4 attestations: they go with it
    expect(dry.plan.layout.remove).toEqual([oldManifest, ...(goneArtifact?.evidence ?? [])].sort());
    expect(dry.plan.builds.find((b) => b.id === feat1)?.artifacts[0]?.reasons).toEqual([
      { kind: 'shared', buildId: detached, project: 'demo' },
    ]);

    const text = gc(repo, home, '+2 hours').stdout;
    expect(snapshot(repo, home)).toEqual(before);
    expect(text).toContain('live in environment "staging"');
    expect(text).toMatch(/promoted to protected environment "prod" on \S+: inside the rollback window until/);
    expect(text).toContain('older than the last 1 succeeded builds of main');
    expect(text).toContain(`left:   delivered files in ${join(repo, 'kiln-out')} are yours; gc never removes them`);

    // --apply removes exactly the planned manifests, then exactly the blobs nothing left needs.
    const indexBefore = JSON.parse(before.index).manifests.map((e: { digest: string }) => e.digest);
    const applied = JSON.parse(gc(repo, home, '+2 hours', ['--apply', '--json']).stdout) as Gc;
    expect(applied.plan.layout.remove).toEqual(dry.plan.layout.remove);
    const after = snapshot(repo, home);
    const indexAfter = JSON.parse(after.index).manifests.map((e: { digest: string }) => e.digest);
    expect(indexAfter).toEqual(indexBefore.filter((d: string) => !dry.plan.layout.remove.includes(d)));
    const reachable = await expectValidLayout(join(home, 'oci'));
    const blobsAfter = after.blobs.map((l) => l.split(' ')[0]);
    expect(blobsAfter).toEqual(reachable); // every blob left is needed
    const removedBlobs = before.blobs.map((l) => l.split(' ')[0]).filter((n) => !blobsAfter.includes(n));
    expect(applied.applied?.blobs.removed.map((r) => r.digest.slice(7))).toEqual(removedBlobs);
    expect(removedBlobs).toContain(oldManifest.slice(7));
    expect(applied.applied).toMatchObject({ manifestsRemoved: 8, buildsDeleted: 2, buildDirsRemoved: 2 });
    expect(after.buildDirs).toEqual(before.buildDirs.filter((id) => id !== old && id !== feat1));
    expect(after.delivered).toEqual(before.delivered); // the user's files
    const left = JSON.parse(after.builds).map((b: { id: string }) => b.id);
    expect(left).toEqual(
      JSON.parse(before.builds)
        .map((b: { id: string }) => b.id)
        .filter((id: string) => id !== old && id !== feat1),
    );

    // Two days on, the prod rollback window has ended: `rollback` goes; `live` is still what staging runs.
    const later = JSON.parse(gc(repo, home, '+2 days', ['--apply', '--json']).stdout) as Gc;
    expect(later.plan.store.remove).toEqual([rollback]);
    expect(later.plan.builds.find((b) => b.id === rollback)?.artifacts[0]?.reasons).toMatchObject([
      { kind: 'rollback-ended', environment: 'prod' },
    ]);
    await expectValidLayout(join(home, 'oci'));
  });

  it('after a crash between the index update and the blob sweep, the layout is valid and the next gc finishes', async () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const home = join(root, 'home');
    const registry = await startRegistry();
    makeRepo(repo, demoProject({ 'kiln.yaml': `${DEMO_KILN_YAML}${policy(registry.host)}` }));
    const old = build(repo, home);
    commit(repo, 'src/a.js', 'export const a = 1;\n');
    build(repo, home);
    const oci = kilnPaths(home).oci;

    // Step 1 of --apply alone, as a process killed right after it would leave things.
    const store = await openSqliteStore(kilnPaths(home).store);
    const plan = planRetention({
      project: 'demo',
      policy: { keepLast: 1, rollbackDays: 1 },
      environments: {},
      now: new Date(),
      records: await retentionRecords(store, { project: 'demo', repoUrl: `file://${realpathSync(repo)}`, subdir: '' }),
      layout: { dir: oci, manifests: await readLayoutManifests(oci) },
      outputDir: join(repo, 'kiln-out'),
      publishTo: null,
    });
    await store.close();
    expect(plan.store.remove).toEqual([old]);
    const blobsBefore = readdirSync(join(oci, 'blobs', 'sha256')).sort();
    expect((await removePlannedManifests(plan)).length).toBe(8);
    const reachable = await expectValidLayout(oci);
    expect(readdirSync(join(oci, 'blobs', 'sha256')).sort()).toEqual(blobsBefore); // nothing deleted yet
    expect(reachable.length).toBeLessThan(blobsBefore.length);

    // The next gc: nothing left to take out of the index, the build leaves the store, the orphaned blobs go.
    const next = JSON.parse(gc(repo, home, '+2 hours', ['--apply', '--json']).stdout) as Gc;
    expect(next.plan.layout.remove).toEqual([]);
    expect(next.applied).toMatchObject({ manifestsRemoved: 0, buildsDeleted: 1 });
    expect(readdirSync(join(oci, 'blobs', 'sha256')).sort()).toEqual(await expectValidLayout(oci));
    expect(next.applied?.blobs.removed).toHaveLength(blobsBefore.length - reachable.length);
    const again = JSON.parse(gc(repo, home, '+2 hours', ['--json']).stdout) as Gc;
    expect(again.plan.store.remove).toEqual([]);
  });

  it('exits 2 on a usage or kiln.yaml error and 4 when the layout is unreadable, touching nothing', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const home = join(root, 'home');
    makeRepo(repo, demoProject());
    const bad = kiln(['gc', '--aply'], { cwd: repo, home });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/kiln gc: Unknown option '--aply'/);
    const none = kiln(['gc', root], { cwd: repo, home });
    expect(none.status).toBe(2);
    expect(none.stderr).toContain(`no kiln.yaml at ${join(root, 'kiln.yaml')}`);
    mkdirSync(join(home, 'oci'), { recursive: true });
    writeFileSync(join(home, 'oci', 'index.json'), '{"schemaVersion":2}');
    const broken = kiln(['gc', '--apply'], { cwd: repo, home });
    expect(broken.status).toBe(4);
    expect(broken.stderr).toMatch(/index\.json is not an OCI image index .*manifests: expected an array/);
    expect(readFileSync(join(home, 'oci', 'index.json'), 'utf8')).toBe('{"schemaVersion":2}');
  });
});
