// Shared test inputs for the attest tests: a provenance input, temp dirs, and a signed artifact on disk.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  generateKeyPair,
  type KeyAlgorithm,
  LOCAL_BUILDER_ID,
  loadSigner,
  makeStatement,
  type ProvenanceInput,
  provenancePredicate,
  type Signer,
  type SigstoreBundle,
  SLSA_PROVENANCE_V1,
  signStatement,
} from '../../src/attest/index.js';
import { sha256Digest } from '../../src/core/digest.js';
import { tempDir as testTempDir } from './tmp.js';

export { VECTORS } from './vectors.js';

export const COMMIT = '0123456789abcdef0123456789abcdef01234567';
export const REPO = 'https://git.example.com/acme/app';

/** A complete provenance input; override fields per test. */
export function provenanceInput(overrides: Partial<ProvenanceInput> = {}): ProvenanceInput {
  return {
    builderId: LOCAL_BUILDER_ID,
    buildId: 'build-42',
    startedOn: '2026-01-02T03:04:05Z',
    finishedOn: '2026-01-02T03:09:00Z',
    source: { repoUrl: REPO, commit: COMMIT, subdir: 'services/api', dirty: false },
    config: { path: 'kiln.yaml', digest: sha256Digest('config') },
    steps: [
      { name: 'install', run: 'npm ci', network: true, outputs: sha256Digest('modules'), cachedFrom: 'build-41' },
      { name: 'build', run: 'npm run build', network: false, outputs: sha256Digest('dist') },
    ],
    lockfiles: [
      { path: 'services/api/package-lock.json', digest: sha256Digest('lock') },
      { path: 'Cargo.lock', digest: sha256Digest('cargo') },
    ],
    toolchain: [
      { name: 'node', version: '20.20.2', digest: sha256Digest('node') },
      { name: 'bash', version: '5.2' },
    ],
    runner: { kind: 'bubblewrap', sandboxed: true },
    ...overrides,
  };
}

/** A temp dir removed after the current test. */
export async function tempDir(): Promise<string> {
  return testTempDir('kiln-attest-');
}

export function newSigner(alg: KeyAlgorithm): Signer {
  return loadSigner(generateKeyPair(alg).privateKeyPem, `test ${alg} key`);
}

/** Writes an artifact, signs provenance for it, and returns everything a verify call needs. */
export async function signedArtifact(
  alg: KeyAlgorithm,
  input: ProvenanceInput = provenanceInput(),
): Promise<{ dir: string; artifactPath: string; signer: Signer; bundle: SigstoreBundle; bundleJson: string }> {
  const dir = await tempDir();
  const artifactPath = join(dir, 'app.tar');
  const bytes = Buffer.from('kiln artifact bytes\n'.repeat(100));
  await writeFile(artifactPath, bytes);
  const signer = newSigner(alg);
  const statement = makeStatement(
    [{ name: 'app.tar', digest: sha256Digest(bytes) }],
    SLSA_PROVENANCE_V1,
    provenancePredicate(input),
  );
  const bundle = await signStatement(statement, signer);
  return { dir, artifactPath, signer, bundle, bundleJson: JSON.stringify(bundle) };
}
