import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyBundle } from '../../../src/attest/index.js';
import { VECTORS } from '../../helpers/attest.js';

const CASES = join(VECTORS, 'sigstore-conformance/bundle-verify');
const PUBLIC_GOOD_ROOT = join(VECTORS, 'sigstore-public-good/trusted_root.json');

// Key-signed cases: a key.pub to verify with, plus the one that deliberately omits it.
const keyCases = readdirSync(CASES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .filter((name) => existsSync(join(CASES, name, 'key.pub')) || name === 'managed-key-no-key_fail')
  .sort();

describe('sigstore-conformance bundle-verify (key-signed cases)', () => {
  it('finds the key-signed cases', () => {
    expect(keyCases).toEqual([
      'managed-key-and-trusted-root',
      'managed-key-happy-path',
      'managed-key-no-key_fail',
      'managed-key-wrong-key_fail',
    ]);
  });

  for (const name of keyCases) {
    const shouldPass = !name.endsWith('_fail');
    it(`${name} ${shouldPass ? 'verifies its signature, and is refused for having no statement' : 'is rejected'}`, async () => {
      const dir = join(CASES, name);
      const read = (file: string) => readFile(join(dir, file), 'utf8');
      const artifact = existsSync(join(dir, 'artifact')) ? join(dir, 'artifact') : join(CASES, 'a.txt');
      const ownRoot = join(dir, 'trusted_root.json');
      const report = await verifyBundle({
        bundleJson: await read('bundle.sigstore.json'),
        artifact: { path: artifact },
        ...(existsSync(join(dir, 'key.pub')) ? { publicKeyPem: await read('key.pub') } : {}),
        trustedRootJson: await readFile(existsSync(ownRoot) ? ownRoot : PUBLIC_GOOD_ROOT, 'utf8'),
      });
      // These bundles are plain message signatures: the signature verifies, but with no statement there is no
      // predicate type, so Kiln refuses each of them; the good ones for that reason alone.
      expect(report.ok, JSON.stringify(report.checks, null, 2)).toBe(false);
      if (shouldPass) {
        expect(report.checks.find((c) => c.check === 'subject-digest')?.ok).toBe(true);
        expect(report.checks.filter((c) => !c.ok).map((c) => [c.check, c.actual])).toEqual([
          ['predicate-type', 'a plain message signature (no in-toto statement)'],
        ]);
      } else {
        const failed = report.checks.filter((c) => !c.ok);
        expect(failed.map((c) => c.check)).toEqual(['public-key']);
      }
    });
  }

  it('happy-path bundles carry tlog entries, so the empty default root rejects them', async () => {
    const dir = join(CASES, 'managed-key-happy-path');
    const report = await verifyBundle({
      bundleJson: await readFile(join(dir, 'bundle.sigstore.json'), 'utf8'),
      artifact: { path: join(CASES, 'a.txt') },
      publicKeyPem: await readFile(join(dir, 'key.pub'), 'utf8'),
    });
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => !c.ok)?.check).toBe('signature');
  });

  it('a key-signed message signature over another artifact is rejected', async () => {
    const dir = join(CASES, 'managed-key-happy-path');
    const report = await verifyBundle({
      bundleJson: await readFile(join(dir, 'bundle.sigstore.json'), 'utf8'),
      artifact: { path: join(CASES, 'README.md') },
      publicKeyPem: await readFile(join(dir, 'key.pub'), 'utf8'),
      trustedRootJson: await readFile(PUBLIC_GOOD_ROOT, 'utf8'),
    });
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => !c.ok)?.check).toBe('signature');
  });
});
