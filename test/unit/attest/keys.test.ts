import { generateKeyPairSync } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, keyHint, loadPublicKey, loadSigner, writeKeyPair } from '../../../src/attest/index.js';
import { isKilnError, type KilnError } from '../../../src/core/errors.js';
import { tempDir, VECTORS } from '../../helpers/attest.js';

function keyError(fn: () => unknown): KilnError {
  try {
    fn();
  } catch (err) {
    if (isKilnError(err, 'KILN_KEY_INVALID')) return err;
    throw err;
  }
  throw new Error('expected KILN_KEY_INVALID');
}

describe('generateKeyPair / loadSigner', () => {
  for (const alg of ['ecdsa-p256', 'ed25519'] as const) {
    it(`round-trips a ${alg} PKCS8/SPKI pair`, () => {
      const pair = generateKeyPair(alg);
      expect(pair.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      expect(pair.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
      const signer = loadSigner(pair.privateKeyPem, 'k.key');
      expect(signer.algorithm).toBe(alg);
      expect(signer.publicKeyPem).toBe(pair.publicKeyPem);
      expect(signer.keyHint).toBe(keyHint(pair.publicKeyPem));
      expect(loadPublicKey(pair.publicKeyPem, 'k.pub').algorithm).toBe(alg);
    });
  }

  it('computes the sigstore key hint base64(sha256(SPKI DER))', async () => {
    const pem = await readFile(
      join(VECTORS, 'sigstore-conformance/bundle-verify/managed-key-happy-path/key.pub'),
      'utf8',
    );
    expect(keyHint(pem)).toBe('TLMsSDfG3ajPsWge+z/vX5T/zluXnmvbkTkwLIV68Tk=');
  });

  it('rejects garbage naming the source', () => {
    const err = keyError(() => loadSigner('not a key at all', '/keys/ci.key'));
    expect(err.message).toContain('/keys/ci.key');
    expect(err.message).toContain('not a PEM key');
    expect(err.hint).toBeDefined();
  });

  it('rejects a truncated PEM naming the source', () => {
    const pem = generateKeyPair('ed25519').privateKeyPem.replace(/[A-Za-z0-9+/]{8}\n/, '\n');
    const err = keyError(() => loadSigner(pem, '/keys/broken.key'));
    expect(err.message).toContain('/keys/broken.key');
  });

  it('rejects a public key given as the signing key', () => {
    const err = keyError(() => loadSigner(generateKeyPair('ecdsa-p256').publicKeyPem, 'release.pub'));
    expect(err.message).toContain('release.pub');
    expect(err.message).toContain('PUBLIC KEY');
    expect(err.hint).toContain('.key');
  });

  it('rejects RSA and other curves, without leaking key bytes', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    const err = keyError(() => loadSigner(rsa.toString(), 'rsa.key'));
    expect(err.message).toBe('rsa.key is not an Ed25519 or ECDSA P-256 key (got RSA); Kiln signs with those only');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    expect(keyError(() => loadSigner(p384.toString(), 'p384.key')).message).toContain('EC secp384r1');
  });

  it('rejects an encrypted key', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' });
    const err = keyError(() => loadSigner(pem.toString(), 'enc.key'));
    expect(err.message).toContain('enc.key is an encrypted private key');
  });

  it('loadPublicKey rejects a private key and a malformed key', () => {
    const priv = generateKeyPair('ed25519').privateKeyPem;
    expect(keyError(() => loadPublicKey(priv, 'oops.key')).message).toContain('oops.key is a private key');
    const bad =
      '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE++++wrongkey==\n-----END PUBLIC KEY-----\n';
    expect(keyError(() => loadPublicKey(bad, 'bad.pub')).message).toContain('bad.pub is not a valid public key');
  });
});

describe('writeKeyPair', () => {
  it('writes <prefix>.key 0600 and <prefix>.pub 0644 that load back', async () => {
    const dir = await tempDir();
    const out = await writeKeyPair(join(dir, 'keys', 'release'), 'ed25519');
    expect(out.keyPath).toBe(join(dir, 'keys', 'release.key'));
    expect((await stat(out.keyPath)).mode & 0o777).toBe(0o600);
    expect((await stat(out.pubPath)).mode & 0o777).toBe(0o644);
    const signer = loadSigner(await readFile(out.keyPath, 'utf8'), out.keyPath);
    expect(signer.keyHint).toBe(out.keyHint);
    expect(keyHint(await readFile(out.pubPath, 'utf8'))).toBe(out.keyHint);
  });

  it('refuses to overwrite either file unless forced', async () => {
    const dir = await tempDir();
    const prefix = join(dir, 'k');
    await writeFile(`${prefix}.pub`, 'existing');
    const err = await writeKeyPair(prefix, 'ecdsa-p256').catch((e: unknown) => e);
    expect(isKilnError(err, 'KILN_USAGE')).toBe(true);
    expect((err as KilnError).message).toContain(`${prefix}.pub`);
    expect((err as KilnError).hint).toContain('force');
    expect(await readFile(`${prefix}.pub`, 'utf8')).toBe('existing');
    const first = await writeKeyPair(prefix, 'ecdsa-p256', { force: true });
    const second = await writeKeyPair(prefix, 'ecdsa-p256', { force: true });
    expect(second.keyHint).not.toBe(first.keyHint);
    expect((await stat(second.keyPath)).mode & 0o777).toBe(0o600);
  });
});
