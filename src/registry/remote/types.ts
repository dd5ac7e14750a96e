// The OCI distribution client's seam (https://github.com/opencontainers/distribution-spec/blob/main/spec.md).
import type { Digest } from '../../core/digest.js';
import type { Descriptor } from '../types.js';

/** A registry reference: `host[:port]/repo/path[:tag|@sha256:…]` (no scheme). */
export interface RegistryRef {
  /** `127.0.0.1:5000`, `ghcr.io` … (as written, lower-case). */
  readonly registry: string;
  /** `team/app` (lower-case, slash-separated path components). */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

/** Where the credentials for a registry came from: none, `user:password` basic auth, or an identity/bearer token. */
export type RegistryCredentials =
  /** `source` (optional) says what was looked at and why nothing was usable, for error messages. */
  | { readonly kind: 'anonymous'; readonly source?: string }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string; readonly source: string }
  | { readonly kind: 'token'; readonly token: string; readonly source: string };

/** A manifest as stored: exact bytes (digest is over them), media type, and the digest. */
export interface FetchedManifest {
  readonly bytes: Buffer;
  readonly mediaType: string;
  readonly digest: Digest;
}

/** One OCI registry, one set of credentials: every call verified, retried where safe, with clear errors. */
export interface RegistryClient {
  readonly registry: string;
  /** True when the blob exists in the repository (HEAD). */
  hasBlob(repository: string, digest: Digest): Promise<boolean>;
  /**
   * Uploads a blob unless present: tries a cross-repository mount from `mountFrom` first when given, then a
   * monolithic upload (POST + PUT), or a chunked one (POST + PATCH… + PUT) for content larger than the chunk size.
   * `source` is a file path (streamed) or bytes. The digest is checked before anything is sent.
   */
  putBlob(
    repository: string,
    blob: {
      readonly digest: Digest;
      readonly size: number;
      /** A file path, bytes, or a function that gives them, called only when the blob must be uploaded. */
      readonly source: string | Uint8Array | (() => Promise<string | Uint8Array>);
    },
    opts?: { readonly mountFrom?: string },
  ): Promise<void>;
  /**
   * Downloads a blob, verified against its digest (a mismatch is an error, never returned bytes); with `size` (as
   * a manifest declares it), a body longer than that is refused unread.
   */
  getBlob(repository: string, digest: Digest, size?: number): Promise<Buffer>;
  /** PUT of a manifest by tag or digest; returns the digest of `bytes` (checked against the registry's answer). */
  putManifest(repository: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<Digest>;
  /** GET of a manifest (OCI manifest and index, Docker v2 accepted); undefined when the registry says 404. */
  getManifest(repository: string, reference: string): Promise<FetchedManifest | undefined>;
  /** HEAD of a manifest: its digest, or undefined when absent. */
  resolve(repository: string, reference: string): Promise<Digest | undefined>;
  /** DELETE of a manifest by digest; false when the registry does not allow deletes (405/ UNSUPPORTED). */
  deleteManifest(repository: string, digest: Digest): Promise<boolean>;
  /** Tags of the repository (all pages). */
  listTags(repository: string): Promise<string[]>;
  /**
   * The referrers of `subject` by the referrers API (`GET /v2/<name>/referrers/<digest>`); undefined when the
   * registry has no referrers API (404 on that endpoint, or an answer that is not an image index).
   */
  referrersApi(repository: string, subject: Digest, artifactType?: string): Promise<Descriptor[] | undefined>;
}
