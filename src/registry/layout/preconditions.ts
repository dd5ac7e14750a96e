// Checks on what callers hand the layout, made before anything is written, each naming the offending value.
import { KilnError } from '../../core/errors.js';
import type { AttachOptions, Descriptor, Manifest } from '../types.js';
import { assertDescriptor, isMediaType, isRefName, manifestProblems } from '../validate.js';
import { hasBlob } from './blobs.js';

/** Throws KILN_USAGE unless `value` is a media type the OCI schemas accept. */
export function checkMediaType(value: string, what: string): void {
  if (!isMediaType(value)) {
    throw new KilnError(
      'KILN_USAGE',
      `${what}: expected a media type like application/vnd.example+json, got ${JSON.stringify(value)}`,
    );
  }
}

/** Throws KILN_USAGE unless `refName` fits the image-layout ref-name grammar (e.g. `v1.2.3`, `app/linux-amd64`). */
export function checkRefName(refName: string): void {
  if (!isRefName(refName)) {
    throw new KilnError('KILN_USAGE', `ref name ${JSON.stringify(refName)} is not valid in an OCI layout`, {
      hint: 'Use letters, digits and . _ - : @ + between alphanumerics, with / between components (e.g. app/v1.2.3).',
    });
  }
}

/** Throws KILN_USAGE for an invalid manifest, KILN_NOT_FOUND when its config or a layer is not in the layout. */
export async function checkManifestBlobs(layoutDir: string, manifest: Manifest): Promise<void> {
  const problems = manifestProblems(manifest);
  if (problems.length > 0) {
    throw new KilnError('KILN_USAGE', `manifest is not a valid OCI image manifest: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  const refs: [string, Descriptor][] = [
    ['config', manifest.config],
    ...manifest.layers.map((l, i) => [`layers[${i}]`, l] as [string, Descriptor]),
  ];
  for (const [where, d] of refs) {
    if (!(await hasBlob(layoutDir, d.digest, d.size))) {
      throw new KilnError(
        'KILN_NOT_FOUND',
        `manifest ${where} references blob ${d.digest} (${d.size} bytes), which is not in ${layoutDir}`,
        {
          hint: 'Put every config and layer blob before the manifest that references it.',
        },
      );
    }
  }
}

/** Throws unless `subject` is a descriptor of a manifest already stored in the layout. */
export async function checkSubject(layoutDir: string, subject: Descriptor): Promise<void> {
  assertDescriptor(subject, 'attach subject');
  if (!(await hasBlob(layoutDir, subject.digest, subject.size))) {
    throw new KilnError(
      'KILN_NOT_FOUND',
      `attach subject ${subject.digest} (${subject.size} bytes) is not in ${layoutDir}`,
      {
        hint: 'Attach evidence to the descriptor returned by pushArtifact on the same layout.',
      },
    );
  }
}

/** Where attached evidence comes from: exactly one of `bytes` or `file`. */
export type EvidenceSource = { kind: 'bytes'; bytes: Uint8Array } | { kind: 'file'; file: string };

/** Picks the evidence source, throwing KILN_USAGE unless exactly one of `bytes`/`file` is given. */
export function evidenceSource(opts: AttachOptions): EvidenceSource {
  if (opts.bytes !== undefined && opts.file === undefined) return { kind: 'bytes', bytes: opts.bytes };
  if (opts.file !== undefined && opts.bytes === undefined) return { kind: 'file', file: opts.file };
  throw new KilnError(
    'KILN_USAGE',
    `attach ${opts.artifactType}: expected exactly one of bytes or file, got ${opts.bytes === undefined ? 'neither' : 'both'}`,
  );
}
