import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kiln } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';
import { VECTORS } from '../helpers/vectors.js';

const CASES = join(VECTORS, 'sigstore-conformance', 'bundle-verify');
// The key-based cases: a key.pub is given, or the bundle is key-signed and the key is missing.
const KEY_CASES = readdirSync(CASES).filter(
  (c) => existsSync(join(CASES, c, 'key.pub')) || c === 'managed-key-no-key_fail',
);

describe('kiln verify on the sigstore-conformance key-based cases', () => {
  it('finds the key-based cases', () => {
    expect(KEY_CASES.length).toBeGreaterThanOrEqual(4);
  });

  for (const name of KEY_CASES) {
    it(`${name}: ${name.endsWith('_fail') ? 'rejects' : 'verifies the signature, refuses a bundle with no statement'}`, () => {
      const dir = join(CASES, name);
      const artifact = existsSync(join(dir, 'artifact')) ? join(dir, 'artifact') : join(CASES, 'a.txt');
      const root = existsSync(join(dir, 'trusted_root.json'))
        ? join(dir, 'trusted_root.json')
        : join(VECTORS, 'sigstore-public-good', 'trusted_root.json');
      const args = ['verify', artifact, '--bundle', join(dir, 'bundle.sigstore.json'), '--trusted-root', root];
      if (existsSync(join(dir, 'key.pub'))) args.push('--key', join(dir, 'key.pub'));
      const home = tempDir(); // an empty KILN_HOME: no local default key to fall back on
      const r = kiln([...args, '--json'], { cwd: dir, home });
      const report = JSON.parse(r.stdout);
      if (name.endsWith('_fail')) {
        expect(r.status).toBe(3);
        expect(report.ok).toBe(false);
        expect(report.checks.some((c: { ok: boolean; message: string }) => !c.ok && c.message.length > 0)).toBe(true);
      } else {
        // A plain message signature: it verifies, but states nothing about the artifact, so it is refused.
        expect(r.status).toBe(3);
        expect(report.ok).toBe(false);
        const failed = report.checks.filter((c: { ok: boolean }) => !c.ok);
        expect(failed.map((c: { check: string }) => c.check)).toEqual(['predicate-type']);
        expect(failed[0].message).toContain('states nothing about them');
        expect(report.checks.find((c: { check: string }) => c.check === 'signature')?.ok).toBe(true);
      }
    });
  }
});
