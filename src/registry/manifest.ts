// Pure manifest builders: same inputs → same manifest → same canonical bytes → same digest, on any target.
import { deepFreeze } from '../core/json.js';
import type { Descriptor, Manifest } from './types.js';
import { ANNOTATION_TITLE, KILN_ARTIFACT_TYPE, OCI_EMPTY, OCI_MANIFEST } from './types.js';

/** The content of the empty JSON config blob. */
export const EMPTY_JSON = '{}';

/** Descriptor of the empty config blob (image-spec 1.1 "guidance for an empty descriptor"). */
export const EMPTY_DESCRIPTOR: Descriptor = deepFreeze({
  mediaType: OCI_EMPTY,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
});

/** A build artifact manifest: empty config, one titled layer, caller annotations (serialized sorted). */
export function artifactManifest(opts: {
  layer: Descriptor;
  title: string;
  artifactType?: string;
  annotations?: Readonly<Record<string, string>>;
}): Manifest {
  return deepFreeze({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: opts.artifactType ?? KILN_ARTIFACT_TYPE,
    config: EMPTY_DESCRIPTOR,
    layers: [titledLayer(opts.layer, opts.title)],
    ...annotationsField(opts.annotations),
  });
}

/** An evidence manifest (SBOM, provenance, …) pointing at its artifact through `subject`. */
export function evidenceManifest(opts: {
  subject: Descriptor;
  layer: Descriptor;
  title: string;
  artifactType: string;
  annotations?: Readonly<Record<string, string>>;
}): Manifest {
  const { mediaType, digest, size } = opts.subject;
  return deepFreeze({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: opts.artifactType,
    config: EMPTY_DESCRIPTOR,
    layers: [titledLayer(opts.layer, opts.title)],
    subject: { mediaType, digest, size },
    ...annotationsField(opts.annotations),
  });
}

function titledLayer(layer: Descriptor, title: string): Descriptor {
  return {
    mediaType: layer.mediaType,
    digest: layer.digest,
    size: layer.size,
    annotations: sortedRecord({ ...layer.annotations, [ANNOTATION_TITLE]: title }),
  };
}

function annotationsField(annotations: Readonly<Record<string, string>> | undefined): {
  annotations?: Record<string, string>;
} {
  return annotations && Object.keys(annotations).length > 0 ? { annotations: sortedRecord(annotations) } : {};
}

function sortedRecord(record: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(record).sort()) out[key] = record[key] as string;
  return out;
}
