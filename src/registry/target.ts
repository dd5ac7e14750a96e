// Where a build publishes its artifacts and evidence: one seam, one implementation per backend. The OCI layout under
// the Kiln home is the embedded default; a registry repository serves a worker that keeps nothing on its own disk.
import type { ContentSource } from './copy.js';
import type { Descriptor, PushArtifactOptions } from './types.js';

/** One piece of evidence to hang off an artifact (its manifest's `subject`). */
export interface EvidenceFile {
  readonly mediaType: string;
  readonly artifactType: string;
  readonly title: string;
  readonly bytes: Uint8Array;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** What publishing stored: the artifact manifest and, in order, each evidence manifest with its one layer. */
export interface PublishedArtifact {
  readonly artifact: Descriptor;
  readonly evidence: readonly { readonly manifest: Descriptor; readonly layer: Descriptor }[];
}

/** A place builds publish to and read back from, every read verified by digest. */
export interface ArtifactTarget {
  /** Names the target in messages: `the OCI layout /home/u/.kiln/oci`, `127.0.0.1:5000/builds`. */
  readonly name: string;
  /** The layout directory when the target is an OCI layout (retention works on layouts); else undefined. */
  readonly layoutDir: string | undefined;
  /** Publishes `artifact` and attaches `evidence` to it; content first, references to it last. */
  publish(artifact: PushArtifactOptions, evidence: readonly EvidenceFile[]): Promise<PublishedArtifact>;
  /** What was published, for `kiln publish` to copy, a reused build to re-deliver and `kiln scan` to read. */
  source(): Promise<ContentSource>;
}
