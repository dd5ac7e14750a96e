import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoProject } from '../helpers/project.js';
import { git, kiln, makeRepo } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

interface BuildJson {
  buildId: string;
  commit: string;
  status: string;
  artifacts: { name: string; path: string; digest: string; size: number; bundle: string; sbom: string; spdx: string }[];
}

interface Provenance {
  buildDefinition: {
    externalParameters: { source: { digest: { gitCommit: string }; dirty: boolean; subdir: string; uri: string } };
    resolvedDependencies: { uri: string }[];
  };
  runDetails: { builder: { id: string }; metadata: { invocationId: string; startedOn: string } };
}

function payloadOf(bundlePath: string): {
  subject: { name: string; digest: { sha256: string } }[];
  predicate: Provenance;
} {
  const bundle = JSON.parse(readFileSync(bundlePath, 'utf8'));
  return JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
}

describe('kiln build end to end', () => {
  it('gives identical artifact digests and SBOM bytes from different clones, umasks, clocks, time zones and homes', () => {
    const root = tempDir();
    const commit = makeRepo(join(root, 'origin'), demoProject());
    git(root, ['clone', '-q', join(root, 'origin'), join(root, 'a', 'clone')]);
    git(root, ['clone', '-q', join(root, 'origin'), join(root, 'b', 'deeper', 'clone')]);
    const first = kiln(['build', '--json'], {
      cwd: join(root, 'a', 'clone'),
      home: join(root, 'home-a'),
      umask: '022',
      env: { TZ: 'UTC' },
    });
    expect(first.stderr).not.toContain('internal error');
    expect(first.status).toBe(0);
    const second = kiln(['build', '--json'], {
      cwd: join(root, 'b', 'deeper', 'clone'),
      home: join(root, 'home-b'),
      umask: '077',
      env: { TZ: 'Pacific/Kiritimati', LANG: 'de_DE.UTF-8' },
      fakeTime: '2031-07-04 12:34:56',
    });
    expect(second.status).toBe(0);
    const a = JSON.parse(first.stdout) as BuildJson;
    const b = JSON.parse(second.stdout) as BuildJson;
    expect(a.commit).toBe(commit);
    expect(a.status).toBe('succeeded');
    expect(a.buildId).not.toBe(b.buildId);
    expect(a.artifacts[0]?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    // The faked clock really was in effect for the second build…
    expect(payloadOf(b.artifacts[0]?.bundle ?? '').predicate.runDetails.metadata.startedOn).toMatch(/^2031-07-0[34]T/);
    // …and changed nothing in the artifact or the SBOM.
    expect(b.artifacts[0]?.digest).toBe(a.artifacts[0]?.digest);
    expect(readFileSync(b.artifacts[0]?.sbom ?? '').equals(readFileSync(a.artifacts[0]?.sbom ?? ''))).toBe(true);
    expect(readFileSync(b.artifacts[0]?.spdx ?? '').equals(readFileSync(a.artifacts[0]?.spdx ?? ''))).toBe(true);
    // --json paths are real files: artifact, bundle and SBOM.
    const art = a.artifacts[0];
    expect(art?.path).toBe(join(root, 'a', 'clone', 'kiln-out', 'demo.tgz'));
    expect(readFileSync(art?.path ?? '').length).toBe(art?.size);
    const sbom = JSON.parse(readFileSync(art?.sbom ?? '', 'utf8'));
    expect(sbom.specVersion).toBe('1.6');
    expect(sbom.components.map((c: { purl: string }) => c.purl)).toContain('pkg:npm/ms@2.1.3');
    // The SPDX document lists the same packages (plus the project) and is signed as its own statement.
    const spdx = JSON.parse(readFileSync(art?.spdx ?? '', 'utf8'));
    expect(spdx.spdxVersion).toBe('SPDX-2.3');
    expect(spdx.packages).toHaveLength(sbom.components.length + 1 + sbom.formulation[0].components.length);
    const spdxStatement = payloadOf(`${art?.path}.spdx.sigstore.json`) as unknown as { predicateType: string };
    expect(spdxStatement.predicateType).toBe('https://spdx.dev/Document');
    // Both SBOMs also list what built the artifact, marked as build-time: the builder and its tools.
    const built = sbom.formulation[0].components.map((c: { name: string }) => c.name);
    expect(built).toEqual(expect.arrayContaining(['kiln-builder-bubblewrap', 'node', 'npm', 'sh']));
    const buildToolOf = spdx.relationships.filter(
      (r: { relationshipType: string }) => r.relationshipType === 'BUILD_TOOL_OF',
    );
    expect(buildToolOf).toHaveLength(built.length);
    const statement = payloadOf(art?.bundle ?? '');
    expect(statement.subject).toEqual([{ name: 'demo.tgz', digest: { sha256: art?.digest.slice(7) } }]);
    const p = statement.predicate;
    expect(p.buildDefinition.externalParameters.source.digest.gitCommit).toBe(commit);
    expect(p.buildDefinition.externalParameters.source.dirty).toBe(false);
    expect(p.runDetails.metadata.invocationId).toBe(a.buildId);
    expect(p.runDetails.builder.id).toContain('local');
    const deps = p.buildDefinition.resolvedDependencies.map((d: { uri: string }) => d.uri);
    expect(deps).toContain('package-lock.json');
    expect(deps.some((u: string) => u.startsWith('pkg:generic/node@'))).toBe(true);
    // Building never touches the user's working tree beyond the output directory.
    expect(git(join(root, 'a', 'clone'), ['status', '--porcelain'])).toBe('');
  });

  it('refuses a dirty tree, and with --allow-dirty records that the tree was dirty', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    makeRepo(repo, demoProject());
    writeFileSync(join(repo, 'src', 'util.js'), 'export const twice = (x) => x + x;\n');
    const refused = kiln(['build'], { cwd: repo, home: join(root, 'home') });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('uncommitted changes: src/util.js');
    expect(refused.stderr).toContain('--allow-dirty');
    const dirty = kiln(['build', '--allow-dirty', '--json'], { cwd: repo, home: join(root, 'home') });
    expect(dirty.status).toBe(0);
    const out = JSON.parse(dirty.stdout) as BuildJson;
    expect(payloadOf(out.artifacts[0]?.bundle ?? '').predicate.buildDefinition.externalParameters.source.dirty).toBe(
      true,
    );
    const builds = JSON.parse(kiln(['builds', '--json'], { cwd: repo, home: join(root, 'home') }).stdout);
    expect(builds).toHaveLength(1);
    expect(builds[0].dirty).toBe(true);
  });

  it('fails the build with the failing step, its exit code and log tail, and records it', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const yaml = demoProject()['kiln.yaml']?.replace(
      'run: test -f out/lib/main.js && echo tests ok',
      'run: echo first-line; echo boom-detail >&2; exit 7',
    );
    makeRepo(repo, demoProject({ 'kiln.yaml': yaml ?? '' }));
    const home = join(root, 'home');
    const r = kiln(['build'], { cwd: repo, home });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/step test failed with exit code 7/);
    expect(r.stderr).toContain('| boom-detail');
    expect(r.stderr).toContain('| first-line');
    const [build] = JSON.parse(kiln(['builds', '--json'], { cwd: repo, home }).stdout);
    expect(build).toMatchObject({ status: 'failed', exit_code: 7 });
    const shown = JSON.parse(kiln(['show', build.id, '--json'], { cwd: repo, home }).stdout);
    expect(shown.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ['compile', 'succeeded'],
      ['test', 'failed'],
    ]);
    expect(shown.artifacts).toEqual([]);
    expect(readFileSync(shown.steps[1].log_path, 'utf8')).toContain('boom-detail');
  });

  it('leaves no half-visible build when killed between publishing and recording, and records the attempt failed', () => {
    for (const point of ['before-deliver', 'before-record']) {
      const root = tempDir();
      const repo = join(root, 'repo');
      makeRepo(repo, demoProject());
      const home = join(root, 'home');
      const work = join(root, 'work'); // where this test looks for what the crash left (default: tmpfs)
      const buildDirs = () =>
        existsSync(work)
          ? readdirSync(work, { recursive: true })
              .map(String)
              .filter((p) => /\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{16}$/.test(p))
          : [];
      const crashed = kiln(['build'], { cwd: repo, home, env: { KILN_FAULT_INJECT: point, KILN_WORK_DIR: work } });
      expect(crashed.signal).toBe('SIGKILL');
      // The attempt was recorded when it started; its process is gone, so the next look marks it failed.
      const listed = kiln(['builds'], { cwd: repo, home });
      expect(listed.stdout).toMatch(/ failed /);
      expect(listed.stderr).toMatch(/marked 1 unfinished build\(s\) failed: \S+ \(the build ended without/);
      const [attempt, ...others] = JSON.parse(kiln(['builds', '--json'], { cwd: repo, home }).stdout);
      expect(others).toEqual([]);
      expect(attempt).toMatchObject({ status: 'failed', exit_code: null, fingerprint: null });
      expect(attempt.error).toMatch(/^the build ended without recording its outcome: its process was killed/);
      const shown = JSON.parse(kiln(['show', attempt.id, '--json'], { cwd: repo, home }).stdout);
      expect([shown.steps, shown.artifacts, shown.evidence]).toEqual([[], [], []]);
      const outDir = join(repo, 'kiln-out');
      const out = existsSync(outDir) ? readdirSync(outDir) : [];
      expect(out.filter((n) => n.includes('.tmp-'))).toEqual([]);
      if (point === 'before-deliver') expect(out).toEqual([]);
      else expect(out).toContain('demo.tgz');
      const index = JSON.parse(readFileSync(join(home, 'oci', 'index.json'), 'utf8'));
      expect(index.schemaVersion).toBe(2);
      expect(buildDirs()).toHaveLength(1); // the crashed build's clean copy
      // A rerun sweeps what the crash left, completes normally and records exactly one build.
      const rerun = kiln(['build', '--json'], { cwd: repo, home, env: { KILN_WORK_DIR: work } });
      expect(rerun.status).toBe(0);
      expect(rerun.stderr).toContain('removed 1 work dir(s) left by builds that crashed');
      expect(buildDirs()).toEqual([]);
      const after = JSON.parse(kiln(['builds', '--json'], { cwd: repo, home }).stdout);
      expect(after.map((b: { id: string; status: string }) => [b.id === attempt.id, b.status])).toEqual([
        [false, 'succeeded'],
        [true, 'failed'],
      ]);
    }
  });
});
