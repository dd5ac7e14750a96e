// Files in the Kiln home that someone else can write must not change what a build signs. The SBOM memo was one: its
// index files named SBOM blobs by key, unsigned, so repointing them made Kiln sign another commit's SBOM, miss a
// critical advisory and pass the gate. The SBOM is now made from the committed lockfile on every build. The blob
// memo was another: an edited line made a changed input look unchanged, so a stale cached output was signed; and the
// tool memo: an edited entry put a tool digest Kiln never computed into provenance.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../../../src/core/digest.js';
import { isKilnError } from '../../../src/core/errors.js';
import { harness } from '../../helpers/harness.js';
import { DEBUG_ADVISORY, demoProject } from '../../helpers/project.js';
import { git, makeRepo, writeFiles } from '../../helpers/repo.js';
import { tempDir } from '../../helpers/tmp.js';

describe('the SBOM memo in the Kiln home', () => {
  it('cannot make a build sign another commit’s SBOM: repointed memo files change nothing', async () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    // Commit 1 pins debug@4.4.4 (fixed), commit 2 debug@4.4.3 (affected): both build while no advisory is known.
    const files = demoProject();
    const lock = files['package-lock.json'] as string;
    makeRepo(repo, { ...files, 'package-lock.json': lock.replace('"version": "4.4.3"', '"version": "4.4.4"') });
    const h = harness({ cwd: root });
    try {
      const build = (force = false) => h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host', force });
      await build();
      writeFiles(repo, { 'package-lock.json': lock });
      git(repo, ['commit', '-q', '-am', 'debug 4.4.3'], '2024-05-02T12:00:00Z');
      await build();

      // Point every memo entry of commit 2's SBOM (debug@4.4.3) at commit 1's document of the same format.
      const memoDir = join(h.home, 'cache', 'sbom');
      const blob = (digest: string) => readFileSync(join(h.home, 'cache', 'cas', digest.slice(7, 9), digest.slice(7)));
      const entries = readdirSync(memoDir).map((key) => {
        const digest = readFileSync(join(memoDir, key), 'utf8').trim();
        const text = blob(digest).toString('utf8');
        const format = text.includes('"bomFormat"') ? 'cdx' : text.includes('"spdxVersion"') ? 'spdx' : 'other';
        return { key, digest, format, fixed: text.includes('debug@4.4.4') };
      });
      // (A Kiln that takes SBOMs from the memo has such entries and reads them; this one keeps none to repoint.)
      for (const e of entries.filter((e) => e.format !== 'other' && !e.fixed)) {
        const fixed = entries.find((o) => o.format === e.format && o.fixed);
        if (fixed) writeFileSync(join(memoDir, e.key), fixed.digest);
      }

      const osv = join(root, 'osv');
      mkdirSync(osv);
      writeFileSync(join(osv, `${DEBUG_ADVISORY.id}.json`), JSON.stringify(DEBUG_ADVISORY));
      await h.kiln.importVulnerabilities(osv);
      const err = await build(true).catch((e: unknown) => e);
      expect(isKilnError(err, 'KILN_POLICY_BLOCKED'), String(err)).toBe(true);
      expect((err as Error).message).toContain('debug@4.4.3: GHSA-kiln-test-dbg1');
    } finally {
      await h.kiln.close();
    }
  });
});

describe('the blob memo in the Kiln home', () => {
  it('cannot make a changed input look unchanged: an edited memo is ignored, and the step runs', async () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const before = 'export const main = () => "hello";\n';
    const after = 'export const main = () => "HELLO";\n'; // the same size, so only the digest tells them apart
    makeRepo(repo, demoProject({ 'src/main.js': before }));
    const h = harness({ cwd: root });
    try {
      const build = () => h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host' });
      const first = await build();
      writeFiles(repo, { 'src/main.js': after });
      git(repo, ['commit', '-q', '-am', 'louder'], '2024-05-02T12:00:00Z');
      // Remember the new blob as having the old content's digest.
      const blob = git(repo, ['rev-parse', 'HEAD:src/main.js']).trim();
      const hex = sha256Digest(before).slice('sha256:'.length);
      appendFileSync(join(h.home, 'blob-memo.txt'), `sha1:file:${blob} ${hex} ${Buffer.byteLength(after)}\n`);
      const second = await build();
      expect(second.steps.find((s) => s.name === 'compile')?.cache).toBe('miss');
      expect(second.artifacts[0]?.digest).not.toBe(first.artifacts[0]?.digest);
    } finally {
      await h.kiln.close();
    }
  });
});

describe('the tool memo in the Kiln home', () => {
  it('cannot put a tool digest Kiln did not compute into provenance: an edited memo is ignored', async () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    makeRepo(repo, demoProject());
    const h = harness({ cwd: root });
    try {
      const build = () => h.kiln.build({ projectPath: repo, allowDirty: false, runner: 'host', force: true });
      await build();
      const memo = join(h.home, 'tool-memo.json');
      const forged = 'f'.repeat(64);
      writeFileSync(memo, readFileSync(memo, 'utf8').replace(/"sha256":"[0-9a-f]{64}"/g, `"sha256":"${forged}"`));
      const built = await build();
      const bundle = JSON.parse(readFileSync(built.artifacts[0]?.evidence.provenance as string, 'utf8'));
      const statement = Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8');
      // node's real digest is recorded, the forged one nowhere.
      const node = realpathSync(execFileSync('sh', ['-c', 'command -v node'], { encoding: 'utf8' }).trim());
      expect(statement).toContain(sha256Digest(readFileSync(node)).slice('sha256:'.length));
      expect(statement).not.toContain(forged);
    } finally {
      await h.kiln.close();
    }
  });
});
