// `kiln verify oci://…`: an artifact and its evidence fetched from a registry into a directory, each verified by
// digest, named as a build delivers them (`<title>`, `<title>.sigstore.json`, …) so the file checks apply as they are.
import { promises as fsp } from 'node:fs';
import { basename, join } from 'node:path';
import { EVIDENCE } from '../attest/evidence.js';
import type { Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import { writeFileAtomic } from '../platform/fsutil.js';
import { listReferrers, type ReferrersMode } from './referrers.js';
import type { RegistryClient } from './remote/types.js';
import { ANNOTATION_TITLE } from './types.js';
import { parseManifest } from './validate.js';

/** What was fetched: the artifact's manifest digest, its file, and how its evidence was found. */
export interface FetchedArtifact {
  readonly digest: Digest;
  readonly path: string;
  readonly evidence: readonly string[];
  /** The manifests of the evidence placed in the directory (what verification then checks). */
  readonly evidenceManifests: readonly Digest[];
  readonly referrers: ReferrersMode;
}

/** Resolves `reference` (a tag or digest) and fetches the artifact and every evidence file Kiln knows into `dir`. */
export async function fetchArtifact(
  client: RegistryClient,
  repository: string,
  reference: string,
  dir: string,
): Promise<FetchedArtifact> {
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
  await fsp.mkdir(dir, { recursive: true });
  const path = join(dir, title);
  await writeFileAtomic(path, await client.getBlob(repository, layer.digest, layer.size));
  const { mode, referrers } = await listReferrers(client, repository, digest);
  const evidence: string[] = [];
  const evidenceManifests: Digest[] = [];
  for (const ref of referrers) {
    const bytes = (await client.getManifest(repository, ref.digest))?.bytes;
    if (!bytes) continue; // listed but gone: the checks that need it will say it is missing
    const m = parseManifest(bytes.toString('utf8'), `${where}@${ref.digest}`);
    const file = m.layers[0];
    const name = file?.annotations?.[ANNOTATION_TITLE];
    // Only evidence named as Kiln names it (<title><suffix>) is placed; anything else attached is left alone.
    if (m.subject?.digest !== digest || !file || !name || !EVIDENCE.some((e) => name === `${title}${e.suffix}`)) {
      continue;
    }
    await writeFileAtomic(join(dir, name), await client.getBlob(repository, file.digest, file.size));
    evidence.push(name);
    evidenceManifests.push(ref.digest);
  }
  return { digest, path, evidence: evidence.sort(), evidenceManifests, referrers: mode };
}

/** A file name from an annotation: its last path segment, never `..` or empty. */
function safeName(title: string): string {
  const name = basename(title);
  return name === '' || name === '.' || name === '..' ? 'artifact' : name;
}
