// The seam between Kiln and any cache backend: content-addressed blobs plus action entries, nothing else.
import type { Digest } from '../core/digest.js';

/** What any cache backend offers; local disk and remote HTTP implement it. Reads are never trusted: callers verify. */
export interface BlobStore {
  /** The blob's bytes, or undefined on a miss. */
  getBlob(digest: Digest): Promise<Buffer | undefined>;
  /** True when the backend believes it holds the blob (a later read may still miss or fail verification). */
  hasBlob(digest: Digest): Promise<boolean>;
  /** Stores `data` under `digest`; the caller guarantees they match. */
  putBlob(digest: Digest, data: Buffer): Promise<void>;
  /** Streams the blob into `dest` (memory stays constant); false on a miss. */
  getBlobToFile?(digest: Digest, dest: string): Promise<boolean>;
  /** Streams the file at `path` into the store under `digest`. */
  putBlobFromFile?(digest: Digest, path: string): Promise<void>;
  /** The raw (signed) action entry stored under `key` (64 hex), or undefined on a miss. */
  getAction(key: string): Promise<Buffer | undefined>;
  /** Stores a raw (signed) action entry under `key` (64 hex). */
  putAction(key: string, entry: Buffer): Promise<void>;
}

const ACTION_KEY_RE = /^[0-9a-f]{64}$/;

/** True for an action-cache key (64 lowercase hex): checked before a key ever becomes a path or URL. */
export function isActionKey(value: unknown): value is string {
  return typeof value === 'string' && ACTION_KEY_RE.test(value);
}
