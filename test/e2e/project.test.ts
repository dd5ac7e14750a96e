import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOciSchemas } from '../helpers/oci.js';
import { DEMO_KILN_YAML, demoProject } from '../helpers/project.js';
import { git, kiln, makeRepo } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

function prefixed(prefix: string, files: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([k, v]) => [`${prefix}/${k}`, v]));
}

describe('kiln build: sources, config errors and publishing', () => {
  it('builds a subdirectory, records it, and keeps credentials in the remote URL out of provenance', async () => {
    const root = tempDir();
    const repo = join(root, 'mono');
    makeRepo(repo, { 'README.md': 'monorepo\n', ...prefixed('apps/demo', demoProject()) });
    git(repo, ['remote', 'add', 'origin', 'https://ci-bot:s3cr3t-token@git.example.invalid/acme/mono.git']);
    const home = join(root, 'home');
    const r = kiln(['build', 'apps/demo', '--json'], { cwd: repo, home });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.artifacts[0].path).toBe(join(repo, 'apps', 'demo', 'kiln-out', 'demo.tgz'));
    const bundleText = readFileSync(out.artifacts[0].bundle, 'utf8');
    const statement = JSON.parse(Buffer.from(JSON.parse(bundleText).dsseEnvelope.payload, 'base64').toString());
    const src = statement.predicate.buildDefinition.externalParameters.source;
    expect(src.subdir).toBe('apps/demo');
    expect(src.uri).toBe('git+https://git.example.invalid/acme/mono.git');
    expect(Buffer.from(JSON.parse(bundleText).dsseEnvelope.payload, 'base64').toString()).not.toContain('s3cr3t');
    const shown = JSON.parse(kiln(['show', out.buildId, '--json'], { cwd: repo, home }).stdout);
    expect(shown.build.subdir).toBe('apps/demo');
    expect(shown.build.repo_url).not.toContain('s3cr3t');
    expect(shown.evidence.map((e: { kind: string }) => e.kind).sort()).toEqual([
      'policy-attestation',
      'provenance',
      'sbom',
      'sbom-attestation',
      'spdx',
      'spdx-attestation',
      'vulns-attestation',
    ]);

    // What was published to the OCI layout validates against the OCI schemas and links evidence by subject.
    const schemas = await loadOciSchemas();
    const layout = join(home, 'oci');
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    expect(schemas.index(index)).toEqual([]);
    expect(schemas.layout(JSON.parse(readFileSync(join(layout, 'oci-layout'), 'utf8')))).toEqual([]);
    const blob = (digest: string) => JSON.parse(readFileSync(join(layout, 'blobs', 'sha256', digest.slice(7)), 'utf8'));
    const artifactEntry = shown.artifacts[0].manifest_digest;
    const manifests = index.manifests.map((d: { digest: string }) => ({ digest: d.digest, body: blob(d.digest) }));
    for (const m of manifests) expect(schemas.manifest(m.body)).toEqual([]);
    const artifactManifest = manifests.find((m: { digest: string }) => m.digest === artifactEntry)?.body;
    expect(artifactManifest.layers[0].digest).toBe(out.artifacts[0].digest);
    const referrers = manifests.filter(
      (m: { body: { subject?: { digest: string } } }) => m.body.subject?.digest === artifactEntry,
    );
    expect(referrers.map((m: { body: { artifactType: string } }) => m.body.artifactType).sort()).toEqual([
      'application/spdx+json',
      'application/vnd.cyclonedx+json',
      'application/vnd.dev.sigstore.bundle.v0.3+json',
      'application/vnd.dev.sigstore.bundle.v0.3+json',
      'application/vnd.dev.sigstore.bundle.v0.3+json',
      'application/vnd.dev.sigstore.bundle.v0.3+json',
      'application/vnd.dev.sigstore.bundle.v0.3+json',
    ]);
  });

  it('reports config errors with file:line:column and exits 2 before building anything', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const yaml = DEMO_KILN_YAML.replace('needs: [compile]', 'needs: [compil]').replace(
      '    outputs: [out]',
      '    output: [out]',
    );
    makeRepo(repo, demoProject({ 'kiln.yaml': yaml }));
    const r = kiln(['build'], { cwd: repo, home: join(root, 'home') });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /kiln\.yaml:8:5: steps\.compile\.output: unknown key "output" \(did you mean "outputs"\?\)/,
    );
    expect(r.stderr).toMatch(
      /kiln\.yaml:11:13: steps\.test\.needs\[0\]: unknown step "compil" \(did you mean "compile"\?\)/,
    );
    const cycle = demoProject({
      'kiln.yaml': DEMO_KILN_YAML.replace('    inputs: [src/**, package.json]', '    needs: [test]'),
    });
    makeRepo(join(root, 'cyclic'), cycle);
    const c = kiln(['config', 'check'], { cwd: join(root, 'cyclic'), home: join(root, 'home') });
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(
      /kiln\.yaml:\d+:\d+: steps\.\w+: dependency cycle: (compile → test → compile|test → compile → test)/,
    );
  });

  it('refuses an artifact whose output symlink leaves the output directory', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const yaml = DEMO_KILN_YAML.replace(
      'cp package.json out/ &&',
      'cp package.json out/ && ln -s /etc/passwd out/lib/pw &&',
    );
    makeRepo(repo, demoProject({ 'kiln.yaml': yaml }));
    const r = kiln(['build'], { cwd: repo, home: join(root, 'home') });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("output out/lib/pw is a symlink to /etc/passwd, which leaves the step's directory");
  });

  it('answers --help, unknown commands and unknown flags with the documented exit codes', () => {
    const root = tempDir();
    const home = join(root, 'home');
    expect(kiln(['--help'], { cwd: root, home }).status).toBe(0);
    expect(kiln(['build', '--help'], { cwd: root, home }).stdout).toContain('--allow-dirty');
    expect(kiln(['frobnicate'], { cwd: root, home }).status).toBe(2);
    const bad = kiln(['build', '--no-such-flag'], { cwd: root, home });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('kiln build --help');
    const notRepo = kiln(['build'], { cwd: root, home });
    expect(notRepo.status).toBe(2);
    expect(notRepo.stderr).toContain('is not inside a git repository');
    git(root, ['init', '-q']);
    const noCommit = kiln(['build'], { cwd: root, home });
    expect(noCommit.status).toBe(2);
    expect(noCommit.stderr).toContain('has no commits yet');
    const repo = join(root, 'repo');
    makeRepo(repo, demoProject());
    const badRev = kiln(['build', '--rev', 'no-such-branch'], { cwd: repo, home });
    expect(badRev.status).toBe(2);
    expect(badRev.stderr).toContain('--rev no-such-branch is not a commit in');
  });
});
