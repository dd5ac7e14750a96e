// A registry repository as a build's artifact target: the same manifests as the layout gets, byte for byte, pushed
// in an order that never lets a reader see a reference to missing content (blobs, artifact, evidence, referrers,
// the tag last). Every artifact goes to the one repository, tagged by its layout ref name where that is a valid tag.
import { sha256Digest, sha256File } from '../../core/digest.js';
import { canonicalJson } from '../../core/json.js';
import { artifactManifest, EMPTY_JSON, evidenceManifest } from '../manifest.js';
import { recordReferrers, referrerDescriptor } from '../referrers.js';
import { registrySource } from '../sources.js';
import type { ArtifactTarget, PublishedArtifact } from '../target.js';
import { type Descriptor, type Manifest, OCI_MANIFEST } from '../types.js';
import type { RegistryClient } from './types.js';

/** An artifact target over `repository` of the registry `client` talks to. */
export function registryTarget(client: RegistryClient, repository: string): ArtifactTarget {
  const putManifest = async (manifest: Manifest): Promise<{ descriptor: Descriptor; bytes: Buffer }> => {
    const bytes = Buffer.from(canonicalJson(manifest), 'utf8');
    const digest = await client.putManifest(repository, sha256Digest(bytes), bytes, OCI_MANIFEST);
    return { descriptor: { ...referrerDescriptor(bytes, manifest), digest }, bytes };
  };
  const empty = Buffer.from(EMPTY_JSON);
  const putEmpty = () => client.putBlob(repository, { digest: sha256Digest(empty), size: empty.length, source: empty });
  return {
    name: `${client.registry}/${repository}`,
    layoutDir: undefined,
    async publish(artifact, evidence): Promise<PublishedArtifact> {
      const file = await sha256File(artifact.file);
      const layer: Descriptor = { mediaType: artifact.mediaType, digest: file.digest, size: file.size };
      await client.putBlob(repository, { ...file, source: artifact.file });
      await putEmpty();
      const pushed = await putManifest(artifactManifest({ ...artifact, layer }));
      const subject = pushed.descriptor;
      const attached = [];
      for (const e of evidence) {
        const bytesLayer: Descriptor = { mediaType: e.mediaType, digest: sha256Digest(e.bytes), size: e.bytes.length };
        await client.putBlob(repository, { digest: bytesLayer.digest, size: bytesLayer.size, source: e.bytes });
        const manifest = evidenceManifest({ ...e, subject, layer: bytesLayer });
        attached.push({ manifest: (await putManifest(manifest)).descriptor, layer: manifest.layers[0] as Descriptor });
      }
      await recordReferrers(
        client,
        repository,
        subject.digest,
        attached.map((a) => a.manifest),
      );
      const tag = artifact.refName === undefined ? undefined : tagOf(artifact.refName);
      if (tag) await client.putManifest(repository, tag, pushed.bytes, OCI_MANIFEST);
      return { artifact: subject, evidence: attached };
    },
    async source() {
      return registrySource(client, repository);
    },
  };
}

/** `project/name:commit` → `project.name.commit`, when that is a valid tag (distribution-spec grammar). */
function tagOf(refName: string): string | undefined {
  const tag = refName.replace(/[/:]/g, '.');
  return /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(tag) ? tag : undefined;
}
