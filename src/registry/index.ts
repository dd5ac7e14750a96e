// Public API of the registry stage: publish artifacts and their evidence into OCI targets.
export { blobPath } from './layout/blobs.js';
export {
  type LayoutGcOptions,
  type LayoutManifest,
  readLayoutIndex,
  readLayoutManifests,
  removeManifests,
  withoutManifests,
} from './layout/gc.js';
export { addToIndex, emptyIndex, refNameOf } from './layout/index-plan.js';
export type { OpenOciLayoutOptions } from './layout/layout.js';
export { INDEX_LOCK_NAME, openOciLayout } from './layout/layout.js';
export type { LockEnv, LockHolder, LockOptions } from './layout/lock.js';
export { DEFAULT_LOCK_OPTIONS, PROCESS_LOCK_ENV } from './layout/lock.js';
export {
  type BlobSweep,
  DEFAULT_BLOB_GRACE_MS,
  referencedBlobs,
  type SweepOptions,
  sweepLayoutBlobs,
} from './layout/sweep.js';
export { artifactManifest, EMPTY_DESCRIPTOR, EMPTY_JSON, evidenceManifest } from './manifest.js';
export type { AttachOptions, Descriptor, Index, Manifest, OciLayout, OciTarget, PushArtifactOptions } from './types.js';
export {
  ANNOTATION_BUILD_ID,
  ANNOTATION_REF_NAME,
  ANNOTATION_TITLE,
  KILN_ARTIFACT_TYPE,
  OCI_EMPTY,
  OCI_INDEX,
  OCI_MANIFEST,
} from './types.js';
export { indexProblems, manifestProblems } from './validate.js';
