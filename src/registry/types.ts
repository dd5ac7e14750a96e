// OCI image-spec 1.1 vocabulary and the one seam every publish target (layout dir, later a registry) implements.
import type { Digest } from '../core/digest.js';

/** Media type of an OCI image manifest; every Kiln artifact and evidence manifest uses it. */
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** Media type of an OCI image index (the layout's index.json). */
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
/** Media type of the empty JSON blob `{}` used as the config of artifact manifests. */
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
/** Default artifactType of a Kiln build artifact manifest. */
export const KILN_ARTIFACT_TYPE = 'application/vnd.kiln.artifact.v1';
/** Annotation naming a layer's file; OCI tools use it as the file name when pulling. */
export const ANNOTATION_TITLE = 'org.opencontainers.image.title';
/** The build an evidence manifest comes from (not signed: it only helps pick between files of equal content). */
export const ANNOTATION_BUILD_ID = 'dev.kiln.build-id';
/** Annotation on an index entry that gives the manifest a human name (a "tag" in a layout). */
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';

/** Points at content by digest and size: the unit everything in OCI links with. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** An OCI image manifest as Kiln writes and reads it (unknown fields of foreign manifests are kept). */
export interface Manifest {
  readonly schemaVersion: 2;
  readonly mediaType: typeof OCI_MANIFEST;
  readonly artifactType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** An OCI image index: the layout's index.json, listing the manifests that are reachable. */
export interface Index {
  readonly schemaVersion: 2;
  readonly mediaType?: typeof OCI_INDEX;
  readonly manifests: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
}

/** What to publish as a build artifact: one file, one layer, plus caller-chosen annotations. */
export interface PushArtifactOptions {
  readonly file: string;
  readonly mediaType: string;
  readonly title: string;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly refName?: string;
}

/** Evidence (SBOM, provenance, scan report, …) to hang off an artifact manifest; exactly one of bytes/file. */
export interface AttachOptions {
  readonly subject: Descriptor;
  readonly artifactType: string;
  readonly mediaType: string;
  readonly title: string;
  readonly bytes?: Uint8Array;
  readonly file?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** The operations publishing needs; an OCI layout implements it now, a distribution-registry client later. */
export interface OciTarget {
  /** Stores a file as a blob, streaming (memory does not grow with the file). */
  putBlobFile(path: string, mediaType: string): Promise<Descriptor>;
  /** Stores in-memory bytes as a blob. */
  putBlobBytes(bytes: Uint8Array, mediaType: string): Promise<Descriptor>;
  /** Stores a manifest as canonical JSON; the descriptor carries the manifest's artifactType. */
  putManifest(manifest: Manifest): Promise<Descriptor>;
  /** Publishes one file as an artifact manifest and makes it reachable (optionally under a ref name). */
  pushArtifact(opts: PushArtifactOptions): Promise<Descriptor>;
  /** Publishes an evidence manifest whose subject is an artifact manifest, and makes it reachable. */
  attach(opts: AttachOptions): Promise<Descriptor>;
  /** Manifests whose subject is `subject`, optionally only those of one artifactType. */
  referrers(subject: Digest, opts?: { artifactType?: string }): Promise<Descriptor[]>;
  /** The manifest a ref name points at, if any. */
  resolve(refName: string): Promise<Descriptor | undefined>;
  /** A blob's bytes, verified against its digest; never returns unverified content. */
  readBlob(digest: Digest): Promise<Buffer>;
}

/** An OCI image layout directory (image-spec 1.1 "image-layout.md"). */
export interface OciLayout extends OciTarget {
  readonly dir: string;
  /** attach() for several pieces of evidence, with one index update that names them all. */
  attachAll(list: readonly AttachOptions[]): Promise<Descriptor[]>;
  /** The current, validated index.json. */
  index(): Promise<Index>;
}
