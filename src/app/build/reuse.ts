// An unchanged build hands back its earlier result. The same commit, kiln.yaml, builder, signing key, repository
// URL and Kiln version make the same artifacts (every step would be a cache hit), and the same vulnerability data
// and live policy exceptions the same verdict, so nothing is run, re-signed or re-published: the files in the output
// directory are checked against the recorded digests instead, and any that are missing or different are restored from
// where the build published them, verified by digest.
import { promises as fsp, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { EVIDENCE, evidencePaths } from '../../attest/evidence.js';
import { LOCAL_BUILDER_ID } from '../../attest/provenance.js';
import { copyOutVerified } from '../../cache/local/files.js';
import { type Digest, sha256Digest, sha256File, sha256Hex } from '../../core/digest.js';
import { canonicalJson } from '../../core/json.js';
import { compiledFile } from '../../platform/assets.js';
import { fsyncDir, writeFileAtomic } from '../../platform/fsutil.js';
import type { ContentSource } from '../../registry/copy.js';
import type { SourceRef } from '../../source/index.js';
import type { BuildDetail, EvidenceRow } from '../../store/index.js';
import type { DeliveredArtifact } from './deliver.js';

/** Bump when what a build produces from the same ingredients changes without the Kiln version changing. */
const FINGERPRINT_VERSION = 1;

/** The digest of the bundled code that runs (written by scripts/bundle.mjs); empty when not running bundled. */
function codeStamp(): string {
  try {
    return readFileSync(compiledFile('cli/kiln-code.txt'), 'utf8').trim();
  } catch {
    return '';
  }
}

/** What a build's artifacts and evidence are a function of; undefined for a dirty tree (no commit pins it). */
export function buildFingerprint(input: {
  kilnVersion: string;
  source: SourceRef;
  configText: string;
  builder: Digest;
  /** The builder provenance names; a local build's (the default) leaves the fingerprint as it was before workers. */
  builderId?: string;
  publicKeyPem: string;
  /** The contents of the `cache.trust` keys: they decide which cached outputs a build may use. */
  trustedKeys: readonly string[];
  /** What else the policy decides by: the vulnerability data's revision and which exceptions still apply. */
  verdictInputs: { vulnerabilityData: number; liveExceptions: readonly number[] };
}): string | undefined {
  const { source } = input;
  if (source.dirty) return undefined;
  return sha256Hex(
    canonicalJson({
      version: FINGERPRINT_VERSION,
      kiln: input.kilnVersion,
      code: codeStamp(),
      repo: source.repoUrl,
      commit: source.commit,
      subdir: source.subdir,
      config: sha256Digest(input.configText),
      builder: input.builder,
      ...(input.builderId === undefined || input.builderId === LOCAL_BUILDER_ID ? {} : { builderId: input.builderId }),
      signer: sha256Digest(input.publicKeyPem),
      trusted: input.trustedKeys.map((pem) => sha256Digest(pem)),
      verdict: input.verdictInputs,
    }),
  );
}

/**
 * Puts `earlier`'s artifacts and evidence into `outputDir` exactly as recorded (evidence first, each artifact last,
 * as a build delivers them). Undefined when that is not possible (a file or published manifest is gone from where the
 * build published it, or the record lacks evidence): the caller then builds normally.
 */
export async function redeliver(
  earlier: BuildDetail,
  outputDir: string,
  published: ContentSource,
): Promise<DeliveredArtifact[] | undefined> {
  const delivered: DeliveredArtifact[] = [];
  for (const artifact of earlier.artifacts) {
    const rows = EVIDENCE.map((e) =>
      earlier.evidence.find((r) => r.artifact_name === artifact.name && r.kind === e.kind),
    );
    if (rows.some((r) => r === undefined)) return undefined; // recorded by a Kiln that delivered less evidence
    const evidence = rows as EvidenceRow[];
    const manifests = [artifact.manifest_digest, ...evidence.map((e) => e.manifest_digest)] as Digest[];
    if (!(await allPresent(published, manifests))) return undefined; // no longer published
    const path = join(outputDir, basename(artifact.path));
    const paths = evidencePaths(path);
    for (const row of evidence) {
      if (!(await ensureFile(paths[row.kind], row.digest as Digest, published))) return undefined;
    }
    if (!(await ensureFile(path, artifact.digest as Digest, published))) return undefined;
    delivered.push({
      name: artifact.name,
      path,
      digest: artifact.digest as Digest,
      size: artifact.size,
      evidence: paths,
      manifestDigest: artifact.manifest_digest as Digest,
    });
  }
  return delivered;
}

/**
 * True when `path` holds `digest`, after restoring it from the published blob if needed (durably, as a build
 * delivers); false when that fails for any reason, so the caller builds instead.
 */
async function ensureFile(path: string, digest: Digest, published: ContentSource): Promise<boolean> {
  const have = await sha256File(path).catch(() => undefined);
  if (have?.digest === digest) return true;
  try {
    await fsp.mkdir(dirname(path), { recursive: true });
    const blob = await published.blob(digest, MAX_RESTORE_BYTES);
    if (typeof blob !== 'string') {
      if (sha256Digest(blob) !== digest) return false;
      await writeFileAtomic(path, blob);
      return true;
    }
    if ((await copyOutVerified(blob, digest, path)).kind !== 'ok') return false;
    const fh = await fsp.open(path, 'r');
    await fh.sync().finally(() => fh.close());
    await fsyncDir(dirname(path));
    return true;
  } catch {
    return false;
  }
}

/** A restored file held in memory (from a registry) is at most this large; a layout's are streamed. */
const MAX_RESTORE_BYTES = 1 << 30;

/** True when every manifest can be read (verified) where the build published it. */
async function allPresent(published: ContentSource, manifests: readonly Digest[]): Promise<boolean> {
  for (const digest of manifests) {
    if (
      !(await published.manifest(digest).then(
        () => true,
        () => false,
      ))
    )
      return false;
  }
  return true;
}
