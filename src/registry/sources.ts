// The two places artifacts are copied from: Kiln's OCI layout, and a repository of a registry.
import type { Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import type { ContentSource } from './copy.js';
import { blobPath } from './layout/blobs.js';
import { listReferrers } from './referrers.js';
import type { RegistryClient } from './remote/types.js';
import type { OciLayout } from './types.js';

/** The local OCI layout: blobs are streamed from their files (verified by the registry's digest check on PUT). */
export function layoutSource(layout: OciLayout): ContentSource {
  return {
    name: `the OCI layout ${layout.dir}`,
    manifest: (digest) => layout.readBlob(digest),
    blob: async (digest) => blobPath(layout.dir, digest),
    referrers: (subject) => layout.referrers(subject),
  };
}

/** A repository of a registry: manifests and blobs downloaded verified; referrers by API or the fallback tag. */
export function registrySource(client: RegistryClient, repository: string): ContentSource {
  const name = `${client.registry}/${repository}`;
  return {
    name,
    manifest: async (digest: Digest) => {
      const found = await client.getManifest(repository, digest);
      if (!found) {
        throw new KilnError('KILN_NOT_FOUND', `${name} has no manifest ${digest}`, {
          hint: `check the reference (kiln verify oci://${name}@${digest} says what is there)`,
        });
      }
      return found.bytes;
    },
    blob: (digest, size) => client.getBlob(repository, digest, size),
    referrers: async (subject) => (await listReferrers(client, repository, subject)).referrers,
    mountFrom: { registry: client.registry, repository },
  };
}
