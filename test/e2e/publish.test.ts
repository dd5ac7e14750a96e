import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Digest } from '../../src/core/digest.js';
import { sha256Digest } from '../../src/core/digest.js';
import { listReferrers, recordReferrers, referrerDescriptor } from '../../src/registry/referrers.js';
import { createRegistryClient } from '../../src/registry/remote/index.js';
import { loadOciSchemas } from '../helpers/oci.js';
import { DEMO_KILN_YAML, demoProject } from '../helpers/project.js';
import { startFaultProxy, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { git, kiln, makeRepo, writeFiles } from '../helpers/repo.js';
import { fileTempDir, tempDir } from '../helpers/tmp.js';

const KILN_BIN = resolve(import.meta.dirname, '../../bin/kiln.js');

const skopeoRaw = (ref: string) =>
  execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], {
    encoding: 'buffer',
    stdio: ['ignore', 'pipe', 'pipe'],
  });

// Every test stands alone: the beforeAll build and its home are only read (each test publishes to repositories and
// environments of its own), and a test that makes more builds, or collects them, does so in a home of its own.
describe('publishing to a real registry, verifying from it, promoting by digest', () => {
  let registry: TestRegistry;
  let root: string;
  let repo: string;
  let home: string;
  let buildId: string;
  let manifestDigest: string;

  beforeAll(async () => {
    registry = await startRegistry();
    root = fileTempDir();
    repo = join(root, 'repo');
    home = join(root, 'home');
    const environments = [
      'environments:',
      '  staging:',
      `    repository: ${registry.host}/team/demo-staging`,
      '  prod:',
      `    repository: ${registry.host}/team/demo-prod`,
      '    after: staging',
      '    protected: true',
      '',
    ].join('\n');
    makeRepo(repo, demoProject({ 'kiln.yaml': `${DEMO_KILN_YAML}${environments}` }));
    const built = kiln(['build', '--json'], { cwd: repo, home });
    expect(built.status, built.stderr).toBe(0);
    buildId = JSON.parse(built.stdout).buildId;
    const shown = JSON.parse(kiln(['show', buildId, '--json'], { cwd: repo, home }).stdout);
    manifestDigest = shown.artifacts[0].manifest_digest;
  }, 60_000);

  afterAll(async () => {
    await registry?.stop();
  });

  const run = (args: string[], env?: Record<string, string>) =>
    kiln(args, { cwd: repo, home, ...(env ? { env } : {}) });
  /** Publishes the fixture's build to `repository` (a tag too, when given) and returns `registry/repo@digest`. */
  const publishTo = (repository: string, tag?: string) => {
    const r = run(['publish', buildId, '--to', `${registry.host}/${repository}${tag ? `:${tag}` : ''}`]);
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.trim();
  };
  /** A repository of its own holding the fixture's commit (a clone), built in a home of its own. */
  const ownProject = (kilnYaml?: string) => {
    const dir = tempDir();
    const own = { repo: join(dir, 'repo'), home: join(dir, 'home') };
    git(root, ['clone', '-q', repo, own.repo]);
    if (kilnYaml !== undefined) {
      writeFiles(own.repo, { 'kiln.yaml': kilnYaml });
      git(own.repo, ['commit', '-q', '-am', 'kiln.yaml'], '2024-05-01T13:00:00Z');
    }
    return { ...own, run: (args: string[]) => kiln(args, { cwd: own.repo, home: own.home }) };
  };
  /** Adds `file` to `project` as a new commit and builds it; returns the build id. */
  const commitAndBuild = (project: ReturnType<typeof ownProject>, file: string, date: string) => {
    writeFiles(project.repo, { [file]: 'export const x = 1;\n' });
    git(project.repo, ['add', '-A']);
    git(project.repo, ['commit', '-q', '-m', file], date);
    const built = project.run(['build', '--json']);
    expect(built.status, built.stderr).toBe(0);
    return JSON.parse(built.stdout).buildId as string;
  };
  const runAsync = (args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
      const child = spawn(process.execPath, [KILN_BIN, ...args], {
        cwd: repo,
        env: { ...process.env, KILN_HOME: home, KILN_SIGNING_KEY: '' },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      child.on('close', (status) => done({ status, stdout, stderr }));
    });

  it('publishes by digest with every piece of evidence, found through the sha256-<hex> tag', async () => {
    const r = run(['publish', buildId, '--to', `${registry.host}/team/demo:v1`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`${registry.host}/team/demo@${manifestDigest}`);
    // An independent client sees the same manifest bytes under the tag.
    const raw = skopeoRaw(`${registry.host}/team/demo:v1`);
    expect(`sha256:${createHash('sha256').update(raw).digest('hex')}`).toBe(manifestDigest);
    const schemas = await loadOciSchemas();
    expect(schemas.manifest(JSON.parse(raw.toString('utf8')))).toEqual([]);
    // distribution 2.8 has no referrers API: the evidence is listed by the fallback tag, as cosign reads it.
    const index = JSON.parse(skopeoRaw(`${registry.host}/team/demo:sha256-${manifestDigest.slice(7)}`).toString());
    expect(schemas.index(index)).toEqual([]);
    expect(index.manifests).toHaveLength(7);
    for (const d of index.manifests) {
      const evidence = JSON.parse(skopeoRaw(`${registry.host}/team/demo@${d.digest}`).toString());
      expect(evidence.subject.digest).toBe(manifestDigest);
      expect(schemas.manifest(evidence)).toEqual([]);
    }
    // Running it again changes nothing and succeeds.
    const again = run(['publish', buildId, '--to', `${registry.host}/team/demo:v1`, '--json']);
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)[0]).toMatchObject({ digest: manifestDigest, referrers: 'tag', tags: ['v1'] });
  });

  it('refuses to move an immutable tag, and moves a mutable one', () => {
    publishTo('team/tags', 'v1');
    const project = ownProject();
    const second = commitAndBuild(project, 'src/extra.js', '2024-05-02T12:00:00Z');
    const moved = project.run(['publish', second, '--to', `${registry.host}/team/tags:v1`]);
    expect(moved.status).toBe(2);
    expect(moved.stderr).toContain(`${registry.host}/team/tags:v1 already points at ${manifestDigest}`);
    const mutable = project.run(['publish', second, '--to', `${registry.host}/team/tags`, '--mutable-tag', 'latest']);
    expect(mutable.status, mutable.stderr).toBe(0);
    expect(sha256Digest(skopeoRaw(`${registry.host}/team/tags:latest`))).not.toBe(manifestDigest);
    const again = run(['publish', buildId, '--to', `${registry.host}/team/tags`, '--mutable-tag', 'latest']);
    expect(again.status, again.stderr).toBe(0);
    const raw = skopeoRaw(`${registry.host}/team/tags:latest`);
    expect(sha256Digest(raw)).toBe(manifestDigest);
  });

  it('verifies from the registry: a tag is resolved and the digest is what is printed', () => {
    publishTo('team/verify', 'v1');
    const r = run(['verify', `oci://${registry.host}/team/verify:v1`, '--require', 'sbom,vulns,policy']);
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain(`verified: ${registry.host}/team/verify@${manifestDigest}`);
    expect(r.stdout).toContain('✓ policy-result: the policy decision is PASSED');
    const missing = run(['verify', `oci://${registry.host}/team/verify:nope`]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(`${registry.host}/team/verify:nope does not exist`);
  });

  it('promotes in order, by digest, with all evidence and a signed promotion statement', () => {
    const ref = publishTo('team/promote');
    expect(ref).toBe(`${registry.host}/team/promote@${manifestDigest}`);
    const early = run(['promote', ref, '--to', 'prod']);
    expect(early.status).toBe(3);
    expect(early.stderr).toContain('was never promoted to staging');
    const staging = run(['promote', ref, '--to', 'staging', '--json']);
    expect(staging.status, staging.stderr).toBe(0);
    expect(JSON.parse(staging.stdout)).toMatchObject({ digest: manifestDigest, tag: 'staging' });
    expect(sha256Digest(skopeoRaw(`${registry.host}/team/demo-staging:staging`))).toBe(manifestDigest);
    const index = JSON.parse(
      skopeoRaw(`${registry.host}/team/demo-staging:sha256-${manifestDigest.slice(7)}`).toString('utf8'),
    );
    const types = index.manifests.map(
      (d: { annotations?: Record<string, string> }) => d.annotations?.['dev.kiln.predicate-type'],
    );
    expect(types).toContain('https://kiln.dev/promotion/v1');
    expect(index.manifests).toHaveLength(8); // the 7 pieces of evidence and the promotion statement
    const prod = run(['promote', ref, '--to', 'prod']);
    expect(prod.status, prod.stderr).toBe(0);
    expect(prod.stdout).toContain(`promoted ${ref} to prod: ${registry.host}/team/demo-prod:prod@${manifestDigest}`);
    // From prod it still verifies, evidence and all.
    const verified = run(['verify', `oci://${registry.host}/team/demo-prod:prod`, '--require', 'sbom,vulns,policy']);
    expect(verified.status, verified.stdout).toBe(0);
  });

  it('refuses to promote a tampered artifact, with the reason', async () => {
    // The same evidence (validly signed) re-attached to a manifest whose file is different bytes.
    const client = createRegistryClient({ registry: registry.host });
    const repository = 'team/tamper';
    publishTo(repository);
    const original = JSON.parse(((await client.getManifest(repository, manifestDigest))?.bytes ?? '').toString());
    const evil = Buffer.from('not what was built\n');
    await client.putBlob(repository, { digest: sha256Digest(evil), size: evil.length, source: evil });
    const tampered = {
      ...original,
      layers: [{ ...original.layers[0], digest: sha256Digest(evil), size: evil.length }],
    };
    const tamperedBytes = Buffer.from(JSON.stringify(tampered));
    const tamperedDigest = await client.putManifest(
      repository,
      sha256Digest(tamperedBytes),
      tamperedBytes,
      tampered.mediaType,
    );
    const subject = { mediaType: tampered.mediaType, digest: tamperedDigest, size: tamperedBytes.length };
    const copies = [];
    for (const ref of (await listReferrers(client, repository, manifestDigest as Digest)).referrers) {
      const m = JSON.parse(((await client.getManifest(repository, ref.digest))?.bytes ?? '').toString());
      const bytes = Buffer.from(JSON.stringify({ ...m, subject }));
      await client.putManifest(repository, sha256Digest(bytes), bytes, m.mediaType);
      copies.push(referrerDescriptor(bytes, m));
    }
    await recordReferrers(client, repository, tamperedDigest, copies);
    const r = run(['promote', `${registry.host}/${repository}@${tamperedDigest}`, '--to', 'staging']);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('promotion refused');
    expect(r.stderr).toContain('subject-digest');
    // Nothing was copied or tagged for it.
    expect(await client.getManifest('team/demo-staging', tamperedDigest)).toBeUndefined();
    expect(await client.resolve('team/demo-staging', 'staging')).not.toBe(tamperedDigest);
  });

  it('gc deletes the registry copies of what goes, evidence and all, and keeps what environments run', () => {
    // A home of its own (gc counts every build of the project there), whose environments are in repositories of its
    // own: its first build goes live in prod, then two more are published; with keepLast: 1 the middle one goes.
    const envs = `environments:\n  staging:\n    repository: ${registry.host}/gc/staging\n  prod:\n    repository: ${registry.host}/gc/prod\n    protected: true\n`;
    const project = ownProject(`${DEMO_KILN_YAML}${envs}`);
    const runOwn = (args: string[]) => {
      const r = project.run(args);
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.trim();
    };
    const first = commitAndBuild(project, 'src/second.js', '2024-05-02T12:00:00Z');
    const prodRef = runOwn(['publish', first, '--to', `${registry.host}/team/gc`]);
    runOwn(['promote', prodRef, '--to', 'staging']);
    runOwn(['promote', prodRef, '--to', 'prod']);
    const published: string[] = [];
    for (const [file, date] of [
      ['src/third.js', '2024-05-03T12:00:00Z'],
      ['src/fourth.js', '2024-05-04T12:00:00Z'],
    ] as const) {
      const id = commitAndBuild(project, file, date);
      published.push(runOwn(['publish', id, '--to', `${registry.host}/team/gc`]));
      // Also pushed somewhere kiln.yaml does not name: the store remembers it.
      runOwn(['publish', id, '--to', `${registry.host}/team/elsewhere`]);
    }
    // gc reads kiln.yaml from disk: keep one build per branch, and delete from where builds are published.
    writeFiles(project.repo, {
      'kiln.yaml': `${DEMO_KILN_YAML}publish:\n  to: ${registry.host}/team/gc\nretention:\n  keepLast: 1\n${envs}`,
    });
    const dry = project.run(['gc']);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('registry: the copies of what goes are deleted too');
    const applied = project.run(['gc', '--apply']);
    expect(applied.status, applied.stderr).toBe(0);
    const [gone, newest] = published as [string, string];
    expect(applied.stdout).toContain(`deleted from the registry: ${gone}`);
    expect(() => skopeoRaw(gone)).toThrow();
    const goneElsewhere = gone.replace('/team/gc@', '/team/elsewhere@');
    expect(applied.stdout).toContain(`deleted from the registry: ${goneElsewhere}`);
    expect(() => skopeoRaw(goneElsewhere)).toThrow();
    expect(sha256Digest(skopeoRaw(newest.replace('/team/gc@', '/team/elsewhere@')))).toBe(newest.split('@')[1]);
    expect(sha256Digest(skopeoRaw(newest))).toBe(newest.split('@')[1]);
    const live = prodRef.split('@')[1];
    expect(sha256Digest(skopeoRaw(prodRef))).toBe(live); // live in prod: stays
    expect(sha256Digest(skopeoRaw(`${registry.host}/gc/prod:prod`))).toBe(live);
  }, 90_000);

  it('survives the registry dying in the middle of a publish: no tag until a rerun completes it, same digest', async () => {
    const proxy = await startFaultProxy(registry);
    try {
      let killed = false;
      // The registry dies when the first manifest arrives: every blob is there, no manifest and no tag yet.
      proxy.rule = ({ method, path }) => {
        if (killed || method !== 'PUT' || !path.includes('/manifests/')) return undefined;
        killed = true;
        void registry.kill();
        return { kind: 'reset' };
      };
      const target = `${proxy.host}/team/crash:v1`;
      // Asynchronously: the proxy runs in this process, and a synchronous child would wait on it forever.
      const failed = await runAsync(['publish', buildId, '--to', target]);
      expect(failed.status).toBe(4);
      expect(failed.stderr).toMatch(/127\.0\.0\.1:\d+/);
      await registry.restart();
      expect(() => skopeoRaw(`${registry.host}/team/crash:v1`)).toThrow(); // no dangling tag
      proxy.rule = () => undefined;
      const rerun = await runAsync(['publish', buildId, '--to', target]);
      expect(rerun.status, rerun.stderr).toBe(0);
      expect(rerun.stdout.trim()).toBe(`${proxy.host}/team/crash@${manifestDigest}`);
      expect(sha256Digest(skopeoRaw(`${registry.host}/team/crash:v1`))).toBe(manifestDigest);
    } finally {
      await proxy.stop();
    }
  }, 60_000);

  it('publishes at the end of a build when kiln.yaml says so, and says how to retry when it cannot', () => {
    const auto = join(root, 'auto');
    const yaml = `${DEMO_KILN_YAML}publish:\n  to: ${registry.host}/team/auto\n  tags: [v1]\n`;
    makeRepo(auto, demoProject({ 'kiln.yaml': yaml }));
    const r = kiln(['build', '--json'], { cwd: auto, home });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.published).toHaveLength(1);
    const digest = out.published[0].digest;
    expect(out.published[0].ref).toBe(`${registry.host}/team/auto@${digest}`);
    expect(sha256Digest(skopeoRaw(`${registry.host}/team/auto:v1`))).toBe(digest);
    // A registry that is not there: the build is still recorded and delivered, and the hint says how to publish it.
    const away = join(root, 'away');
    makeRepo(away, demoProject({ 'kiln.yaml': `${DEMO_KILN_YAML}publish:\n  to: 127.0.0.1:9/team/auto\n` }));
    const failed = kiln(['build'], { cwd: away, home });
    expect(failed.status).toBe(4);
    expect(failed.stderr).toMatch(/build \S+ succeeded, but publishing it failed/);
    expect(failed.stderr).toMatch(/retry with: kiln publish \S+ --to 127\.0\.0\.1:9\/team\/auto/);
  }, 60_000);
});
