// `kiln verify oci://…` and `kiln promote`: an artifact and its evidence fetched from a registry into a directory,
// each verified by digest, named as a build delivers them (`<title>`, `<title>.sigstore.json`, …) so the file checks
// apply as they are.
//
// A registry may list more evidence than one build made: a second build of the same commit published beside the
// first (a `--force` rebuild), or anything anyone attached. Files of two builds never verify together, so the
// evidence is read as sets: each policy decision names the attestations it judged (by digest), and a set is that
// decision with those files. The caller verifies the sets in turn and keeps the first that verifies, so a foreign
// or hostile referrer cannot stop the genuine evidence beside it from verifying. Evidence is small: a layer larger
// than EVIDENCE_MAX_BYTES, a manifest that does not parse, or a blob the registry cannot serve is left out, said why.
import { promises as fsp } from 'node:fs';
import { basename, join } from 'node:path';
import { bundlePredicate } from '../attest/bundle.js';
import { EVIDENCE, type EvidenceKind } from '../attest/evidence.js';
import type { Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import { canonicalJson, isRecord } from '../core/json.js';
import { writeFileAtomic } from '../platform/fsutil.js';
import { listReferrers, type ReferrersMode } from './referrers.js';
import type { RegistryClient } from './remote/types.js';
import { ANNOTATION_BUILD_ID, ANNOTATION_TITLE, type Descriptor } from './types.js';
import { parseManifest } from './validate.js';

/**
 * The largest evidence file Kiln fetches: the SBOM of a 100,000-package lockfile, wrapped in a bundle, is ~40 MiB.
 * A referrer declaring more is not evidence Kiln wrote, and is never downloaded.
 */
export const EVIDENCE_MAX_BYTES = 64 << 20;
/** How many candidate sets are tried at most: a registry listing more decisions than this for one artifact is odd. */
const MAX_SETS = 8;

/** One set of evidence placed beside a copy of the artifact: what verification then checks. */
export interface FetchedArtifact {
  readonly digest: Digest;
  readonly path: string;
  readonly evidence: readonly string[];
  /** The manifests of the evidence placed in the directory (what a promotion copies). */
  readonly evidenceManifests: readonly Digest[];
  readonly referrers: ReferrersMode;
}

/** The artifact, the evidence sets it has in the registry (most likely first), and what was left out and why. */
export interface FetchedSets {
  readonly digest: Digest;
  readonly referrers: ReferrersMode;
  /** Each set in its own directory; at least one (with no evidence, when the registry has none). */
  readonly sets: readonly FetchedArtifact[];
  readonly skipped: readonly string[];
}

/** One referrer that is evidence as Kiln names it: its kind, its manifest and its one file. */
interface Candidate {
  readonly kind: EvidenceKind;
  readonly name: string;
  readonly manifest: Digest;
  readonly layer: Descriptor;
  /** The build its manifest says it comes from (unsigned: only a preference between files of equal content). */
  readonly buildId: string | undefined;
}

/** Resolves `reference` (a tag or digest) and fetches the artifact and its evidence sets under `dir`. */
export async function fetchArtifact(
  client: RegistryClient,
  repository: string,
  reference: string,
  dir: string,
): Promise<FetchedSets> {
  const where = `${client.registry}/${repository}`;
  const digest = reference.startsWith('sha256:') ? (reference as Digest) : await client.resolve(repository, reference);
  if (!digest) {
    throw new KilnError('KILN_NOT_FOUND', `${where}:${reference} does not exist`, {
      hint: `list the tags with \`skopeo list-tags docker://${where}\`, or pass the digest kiln publish printed`,
    });
  }
  const found = await client.getManifest(repository, digest);
  if (!found) {
    throw new KilnError('KILN_NOT_FOUND', `${where}@${digest} does not exist`, {
      hint: `check the digest (kiln publish prints it), or list the tags: skopeo list-tags docker://${where}`,
    });
  }
  const manifest = parseManifest(found.bytes.toString('utf8'), `${where}@${digest}`);
  const layer = manifest.layers[0];
  if (manifest.subject || !layer || manifest.layers.length !== 1) {
    throw new KilnError(
      'KILN_VERIFY_FAILED',
      `${where}@${digest} is not a Kiln artifact manifest (one layer, no subject)`,
      {
        hint: 'pass the digest of the artifact, not of one of its evidence manifests',
      },
    );
  }
  const title = safeName(layer.annotations?.[ANNOTATION_TITLE] ?? 'artifact');
  const artifact = await client.getBlob(repository, layer.digest, layer.size);
  const { mode, referrers } = await listReferrers(client, repository, digest);
  const skipped: string[] = [];
  const candidates = await evidenceCandidates(client, repository, { digest, title, referrers }, skipped);
  const files = blobReader(client, repository, skipped);
  const sets: FetchedArtifact[] = [];
  for (const [i, set] of (await evidenceSets(candidates, files)).entries()) {
    const setDir = join(dir, String(i));
    await fsp.mkdir(setDir, { recursive: true });
    const path = join(setDir, title);
    await writeFileAtomic(path, artifact);
    const placed: Candidate[] = [];
    for (const c of set) {
      const bytes = await files.read(c);
      if (!bytes) continue;
      await writeFileAtomic(join(setDir, c.name), bytes);
      placed.push(c);
    }
    const evidence = placed.map((c) => c.name).sort();
    sets.push({ digest, path, evidence, evidenceManifests: placed.map((c) => c.manifest), referrers: mode });
  }
  return { digest, referrers: mode, sets, skipped };
}

/** The referrers of `subject` that are evidence as Kiln names it (`<title><suffix>`); anything else is left alone. */
async function evidenceCandidates(
  client: RegistryClient,
  repository: string,
  subject: { digest: Digest; title: string; referrers: readonly Descriptor[] },
  skipped: string[],
): Promise<Candidate[]> {
  const where = `${client.registry}/${repository}`;
  const candidates: Candidate[] = [];
  for (const ref of subject.referrers) {
    let bytes: Buffer | undefined;
    let m: ReturnType<typeof parseManifest>;
    try {
      bytes = (await client.getManifest(repository, ref.digest))?.bytes;
      if (!bytes) continue; // listed but gone: the checks that need it will say it is missing
      m = parseManifest(bytes.toString('utf8'), `${where}@${ref.digest}`);
    } catch (err) {
      skipped.push(`referrer ${ref.digest}: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    const file = m.layers[0];
    const name = file?.annotations?.[ANNOTATION_TITLE];
    const spec = EVIDENCE.find((e) => name === `${subject.title}${e.suffix}`);
    if (m.subject?.digest !== subject.digest || !file || !name || !spec) continue;
    if (file.size > EVIDENCE_MAX_BYTES) {
      skipped.push(`referrer ${ref.digest}: ${name} declares ${file.size} bytes, more than evidence may be`);
      continue;
    }
    const buildId = m.annotations?.[ANNOTATION_BUILD_ID];
    candidates.push({ kind: spec.kind, name, manifest: ref.digest, layer: file, buildId });
  }
  // One order whatever order the registry lists them in.
  return candidates.sort((a, b) => (a.manifest < b.manifest ? -1 : a.manifest > b.manifest ? 1 : 0));
}

/** Reads evidence blobs once each; a blob the registry cannot serve as addressed is left out (said in `skipped`). */
function blobReader(client: RegistryClient, repository: string, skipped: string[]) {
  const read = new Map<string, Promise<Buffer | undefined>>();
  return {
    read(c: Candidate): Promise<Buffer | undefined> {
      let bytes = read.get(c.layer.digest);
      if (!bytes) {
        bytes = client.getBlob(repository, c.layer.digest, c.layer.size).catch((err: unknown) => {
          skipped.push(`referrer ${c.manifest}: ${c.name}: ${err instanceof Error ? err.message : String(err)}`);
          return undefined;
        });
        read.set(c.layer.digest, bytes);
      }
      return bytes;
    },
  };
}

/**
 * The candidate sets, most likely first: one per policy decision, with the files it names (decisions naming only
 * files that are there first, then the newest), else one set of the first candidate of each kind.
 */
async function evidenceSets(
  candidates: readonly Candidate[],
  files: ReturnType<typeof blobReader>,
): Promise<Candidate[][]> {
  const decisions: { policy: Candidate; named: Candidate[]; complete: boolean; time: string }[] = [];
  for (const policy of candidates.filter((c) => c.kind === 'policy-attestation')) {
    const bytes = await files.read(policy);
    const predicate = bytes ? bundlePredicate(bytes.toString('utf8')) : undefined;
    if (!isRecord(predicate)) continue;
    const inputs = Array.isArray(predicate.inputAttestations) ? predicate.inputAttestations : [];
    const named: Candidate[] = [];
    let complete = true;
    for (const input of inputs) {
      const sha256 = isRecord(input) && isRecord(input.digest) ? input.digest.sha256 : undefined;
      const match = candidates.find((c) => c.kind !== 'policy-attestation' && c.layer.digest === `sha256:${sha256}`);
      if (match) named.push(match);
      else complete = false;
    }
    decisions.push({ policy, named, complete, time: String(predicate.timeVerified ?? '') });
  }
  decisions.sort((a, b) => Number(b.complete) - Number(a.complete) || (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
  if (decisions.length === 0) return [await withDocuments([], candidates, files)];
  const sets: Candidate[][] = [];
  for (const d of decisions.slice(0, MAX_SETS))
    sets.push(await withDocuments([d.policy, ...d.named], candidates, files));
  return sets;
}

/** The attestation whose predicate each plain document is: a document of the set is the one its attestation signed. */
const SIGNED_AS: Partial<Record<EvidenceKind, EvidenceKind>> = { sbom: 'sbom-attestation', spdx: 'spdx-attestation' };

/**
 * `named` with one candidate of each kind it lacks (the plain SBOM documents a decision does not name): the one whose
 * content is the predicate of the set's attestation of it, else the first; of equals, the one of the same build.
 */
async function withDocuments(
  named: readonly Candidate[],
  candidates: readonly Candidate[],
  files: ReturnType<typeof blobReader>,
): Promise<Candidate[]> {
  const set = [...named];
  for (const e of EVIDENCE) {
    if (named.some((c) => c.kind === e.kind)) continue;
    const sameBuild = (c: Candidate) => (c.buildId !== undefined && c.buildId === named[0]?.buildId ? 0 : 1);
    const pool = candidates.filter((c) => c.kind === e.kind).sort((a, b) => sameBuild(a) - sameBuild(b));
    const attestation = named.find((c) => c.kind === SIGNED_AS[e.kind]);
    let chosen = pool[0];
    if (pool.length > 1 && attestation) {
      const signed = await files.read(attestation);
      const predicate = signed ? canonicalJson(bundlePredicate(signed.toString('utf8')) ?? null) : undefined;
      for (const c of pool) {
        if (predicate !== undefined && (await contentJson(files, c)) === predicate) {
          chosen = c;
          break;
        }
      }
    }
    if (chosen) set.push(chosen);
  }
  return set;
}

/** A document's canonical JSON, or undefined when it cannot be read or parsed. */
async function contentJson(files: ReturnType<typeof blobReader>, c: Candidate): Promise<string | undefined> {
  const bytes = await files.read(c);
  try {
    return bytes ? canonicalJson(JSON.parse(bytes.toString('utf8'))) : undefined;
  } catch {
    return undefined;
  }
}

/** A file name from an annotation: its last path segment, never `..` or empty. */
function safeName(title: string): string {
  const name = basename(title);
  return name === '' || name === '.' || name === '..' ? 'artifact' : name;
}
