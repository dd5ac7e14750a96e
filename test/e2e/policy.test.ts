import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO_KILN_YAML, demoProject } from '../helpers/project.js';
import { kiln, makeRepo, writeFiles } from '../helpers/repo.js';
import { fileTempDir, tempDir } from '../helpers/tmp.js';

/** An OSV record (the real format) against the demo's runtime dependency debug@4.4.3, CVSS 9.8. */
const DEBUG_RECORD = {
  schema_version: '1.6.0',
  id: 'GHSA-kiln-test-dbg1',
  modified: '2026-11-01T00:00:00Z',
  published: '2026-11-01T00:00:00Z',
  aliases: ['CVE-2026-0001'],
  summary: 'debug: test advisory',
  severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
  affected: [
    {
      package: { ecosystem: 'npm', name: 'debug' },
      ranges: [{ type: 'SEMVER', events: [{ introduced: '4.0.0' }, { fixed: '4.4.4' }] }],
    },
  ],
};

const payload = (bundleFile: string) =>
  JSON.parse(Buffer.from(JSON.parse(readFileSync(bundleFile, 'utf8')).dsseEnvelope.payload, 'base64').toString('utf8'));

describe('the policy gate in a real build', () => {
  let osv: string;

  beforeAll(() => {
    osv = join(fileTempDir(), 'osv');
    mkdirSync(join(osv, 'npm'), { recursive: true });
    writeFileSync(join(osv, 'npm', `${DEBUG_RECORD.id}.json`), JSON.stringify(DEBUG_RECORD));
  });

  function setup(policy: string) {
    const root = tempDir();
    const repo = join(root, 'repo');
    const home = join(root, 'home');
    makeRepo(repo, demoProject({ 'kiln.yaml': `${DEMO_KILN_YAML}${policy}` }));
    const imported = kiln(['db', 'import', osv], { cwd: root, home });
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('1 added, 0 updated, 0 unchanged, 0 rejected');
    return { root, repo, home };
  }

  it('blocks a critical finding by default: exit 5, recorded as blocked, nothing published or delivered', () => {
    const { repo, home } = setup('');
    const r = kiln(['build', '--json'], { cwd: repo, home });
    expect(r.status, r.stderr).toBe(5);
    const out = JSON.parse(r.stdout);
    expect(out.status).toBe('blocked');
    expect(out.violations.map((v: { message: string }) => v.message)).toEqual([
      'hello-node → debug@4.4.3: GHSA-kiln-test-dbg1 (critical 9.8), fixed in 4.4.4',
    ]);
    expect(r.stderr).toContain('hello-node → debug@4.4.3: GHSA-kiln-test-dbg1 (critical 9.8), fixed in 4.4.4');
    expect(r.stderr).toContain('hint: upgrade the named dependencies, or add a policy.exceptions entry');
    // Not in the OCI layout, not in the output directory.
    const indexFile = join(home, 'oci', 'index.json');
    const index = existsSync(indexFile) ? JSON.parse(readFileSync(indexFile, 'utf8')) : { manifests: [] };
    expect(index.manifests).toEqual([]);
    expect(existsSync(join(repo, 'kiln-out', 'demo.tgz'))).toBe(false);
    const builds = JSON.parse(kiln(['builds', '--json'], { cwd: repo, home }).stdout);
    expect(builds[0]).toMatchObject({ id: out.buildId, status: 'blocked' });
    expect(builds[0].error).toContain('GHSA-kiln-test-dbg1');
    // The signed decision says FAILED, and the signed scan names the finding.
    const kept = readdirSync(out.evidenceDir);
    expect(kept).toContain('demo.tgz.policy.sigstore.json');
    expect(payload(join(out.evidenceDir, 'demo.tgz.policy.sigstore.json')).predicate).toMatchObject({
      verificationResult: 'FAILED',
      verifiedLevels: ['FAILED'],
    });
    const vulns = payload(join(out.evidenceDir, 'demo.tgz.vulns.sigstore.json'));
    expect(vulns.predicateType).toBe('https://in-toto.io/attestation/vulns/v0.2');
    expect(vulns.predicate.scanner.result.map((x: { id: string }) => x.id)).toEqual(['GHSA-kiln-test-dbg1']);
  });

  it('publishes with a live exception, and kiln verify --require sbom,vulns,policy passes', () => {
    const { root, repo, home } = setup(
      'policy:\n  exceptions:\n    - id: CVE-2026-0001\n      package: debug\n      reason: only used in tests\n      expires: 2099-12-31\n',
    );
    const r = kiln(['build', '--json'], { cwd: repo, home });
    expect(r.status, r.stderr).toBe(0);
    const art = JSON.parse(r.stdout).artifacts[0];
    const decision = payload(art.policy);
    expect(decision.predicateType).toBe('https://slsa.dev/verification_summary/v1');
    expect(decision.predicate.verificationResult).toBe('PASSED');
    expect(decision.predicate.inputAttestations.map((a: { uri: string }) => a.uri)).toEqual([
      'demo.tgz.sigstore.json',
      'demo.tgz.cdx.sigstore.json',
      'demo.tgz.spdx.sigstore.json',
      'demo.tgz.vulns.sigstore.json',
    ]);
    const result = payload(art.vulns).predicate.scanner.result;
    expect(result[0].annotations).toContainEqual({
      waived: 'exception: exception until 2099-12-31: only used in tests',
    });
    const ok = kiln(['verify', art.path, '--require', 'sbom,vulns,policy', '--json'], { cwd: root, home });
    expect(ok.status, ok.stdout).toBe(0);
    expect(JSON.parse(ok.stdout).checks.filter((c: { check: string }) => c.check === 'evidence')).toHaveLength(3);

    // The judged evidence must be what lies beside the artifact: a swapped scan fails the policy check.
    writeFileSync(art.vulns, readFileSync(art.bundle));
    const swapped = kiln(['verify', art.path, '--require', 'policy'], { cwd: root, home });
    expect(swapped.status).toBe(3);
    expect(swapped.stdout).toContain('demo.tgz.vulns.sigstore.json is not the file the policy judged');
    const wrongKind = kiln(['verify', art.path, '--require', 'vulns'], { cwd: root, home });
    expect(wrongKind.status).toBe(3);
    expect(wrongKind.stdout).toMatch(/vulns \(demo\.tgz\.vulns\.sigstore\.json\): .*predicate/);
    const unknown = kiln(['verify', art.path, '--require', 'sbom,sigs'], { cwd: root, home });
    expect(unknown.status).toBe(2);
  });

  it('blocks again once the exception expired, saying so', () => {
    const { repo, home } = setup(
      'policy:\n  exceptions:\n    - id: GHSA-kiln-test-dbg1\n      reason: accepted for the release\n      expires: 2020-01-31\n',
    );
    const r = kiln(['build'], { cwd: repo, home });
    expect(r.status).toBe(5);
    expect(r.stderr).toContain('fixed in 4.4.4 (its exception expired on 2020-01-31)');
    expect(r.stderr).toContain('policy.exceptions[0] (GHSA-kiln-test-dbg1) expired on 2020-01-31');
  });

  it('answers "which recorded artifacts contain it?" for an advisory imported after the build', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const home = join(root, 'home');
    makeRepo(repo, demoProject());
    const built = kiln(['build', '--json'], { cwd: repo, home });
    expect(built.status, built.stderr).toBe(0);
    const digest = JSON.parse(built.stdout).artifacts[0].digest;
    const before = kiln(['scan', '--all'], { cwd: repo, home });
    expect(before.status).toBe(0);
    expect(before.stdout).toContain('0 of 1 recorded artifact(s) affected');

    expect(kiln(['db', 'import', osv], { cwd: root, home }).status).toBe(0);
    const after = kiln(['scan', '--all', '--json'], { cwd: repo, home });
    expect(after.status).toBe(1);
    const report = JSON.parse(after.stdout);
    expect(report.affected).toHaveLength(1);
    expect(report.affected[0]).toMatchObject({ digest, project: 'demo', name: 'demo' });
    expect(report.affected[0].findings[0]).toMatchObject({ id: 'GHSA-kiln-test-dbg1', path: ['debug@4.4.3'] });
    // The delivered SBOM gone, it is read from the OCI layout (verified by digest).
    writeFiles(repo, { 'kiln-out/demo.tgz.cdx.json': '{"tampered": true}' });
    const text = kiln(['scan', '--all'], { cwd: repo, home });
    expect(text.stdout).toContain(`${digest} demo/demo`);
    expect(text.stdout).toContain('hello-node → debug@4.4.3: GHSA-kiln-test-dbg1 (critical 9.8), fixed in 4.4.4');
    // And the next build of the same commit is not handed back as up to date: the verdict would differ.
    const again = kiln(['build', '--json'], { cwd: repo, home });
    expect(again.status).toBe(5);
  });
});
