import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { demoProject } from '../helpers/project.js';
import { kiln, makeRepo } from '../helpers/repo.js';
import { fileTempDir } from '../helpers/tmp.js';

// One real build signed with a generated key, then every way verification must fail.
describe('kiln verify on a real build', () => {
  let root: string;
  let home: string;
  let commit: string;
  let artifact: string;
  let bundle: string;

  beforeAll(() => {
    root = fileTempDir();
    home = join(root, 'home');
    const keys = kiln(['keys', 'generate', '--out', join(root, 'keys', 'ci')], { cwd: root, home });
    expect(keys.status).toBe(0);
    commit = makeRepo(join(root, 'repo'), demoProject());
    const built = kiln(['build', '--json', '--key', join(root, 'keys', 'ci.key')], { cwd: join(root, 'repo'), home });
    expect(built.status).toBe(0);
    const out = JSON.parse(built.stdout);
    artifact = out.artifacts[0].path;
    bundle = out.artifacts[0].bundle;
  });

  const verify = (args: string[]) => kiln(['verify', ...args], { cwd: root, home });
  const pub = () => join(root, 'keys', 'ci.pub');

  it('writes the private key with mode 0600', () => {
    expect(statSync(join(root, 'keys', 'ci.key')).mode & 0o777).toBe(0o600);
  });

  it('passes with the right key and expectations', () => {
    const r = verify([artifact, '--bundle', bundle, '--key', pub(), '--source-commit', commit, '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c: { check: string }) => c.check)).toEqual(
      expect.arrayContaining(['signature', 'subject-digest', 'predicate-type', 'source-commit']),
    );
  });

  it('fails for a flipped byte in the artifact', () => {
    const copy = join(root, 'flipped.tgz');
    const bytes = readFileSync(artifact);
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0x01;
    writeFileSync(copy, bytes);
    const r = verify([copy, '--bundle', bundle, '--key', pub()]);
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/✗ subject-digest: .*expected sha256:[0-9a-f]{64}, got subjects \[sha256:[0-9a-f]{64}\]/);
  });

  it('fails for a tampered statement', () => {
    const b = JSON.parse(readFileSync(bundle, 'utf8'));
    const statement = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8'));
    statement.predicate.buildDefinition.externalParameters.source.dirty = true;
    b.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    writeFileSync(join(root, 'tampered.json'), JSON.stringify(b));
    const r = verify([artifact, '--bundle', join(root, 'tampered.json'), '--key', pub()]);
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/✗ signature:/);
  });

  it('fails with a wrong key', () => {
    kiln(['keys', 'generate', '--out', join(root, 'keys', 'other'), '--algorithm', 'ed25519'], { cwd: root, home });
    const r = verify([artifact, '--bundle', bundle, '--key', join(root, 'keys', 'other.pub')]);
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/✗ signature: .*hint/);
  });

  it('fails for a bundle with two signatures', () => {
    const b = JSON.parse(readFileSync(bundle, 'utf8'));
    b.dsseEnvelope.signatures.push({ ...b.dsseEnvelope.signatures[0] });
    writeFileSync(join(root, 'two.json'), JSON.stringify(b));
    const r = verify([artifact, '--bundle', join(root, 'two.json'), '--key', pub()]);
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/✗ signature-count: .*2/);
  });

  it('fails when the provenance is for another commit than --source-commit', () => {
    const r = verify([artifact, '--bundle', bundle, '--key', pub(), '--source-commit', 'a'.repeat(40)]);
    expect(r.status).toBe(3);
    expect(r.stdout).toContain(`✗ source-commit:`);
    expect(r.stdout).toContain('a'.repeat(40));
    expect(r.stdout).toContain(commit);
  });

  it('fails for a wrong builder id', () => {
    const r = verify([
      artifact,
      '--bundle',
      bundle,
      '--key',
      pub(),
      '--builder-id',
      'https://kiln.dev/builders/control-plane/v1',
    ]);
    expect(r.status).toBe(3);
    expect(r.stdout).toContain('✗ builder-id');
  });

  it('verifies the SBOM attestation as a CycloneDX statement about the same artifact', () => {
    const r = verify([
      artifact,
      '--bundle',
      `${artifact}.cdx.sigstore.json`,
      '--key',
      pub(),
      '--predicate-type',
      'https://cyclonedx.org/bom',
    ]);
    expect(r.status).toBe(0);
  });

  it('gives a usage error for a missing bundle', () => {
    const r = verify([join(root, 'nothing.tgz'), '--key', pub()]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('cannot read the bundle');
  });
});
