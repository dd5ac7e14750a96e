// Public API of the cache stage: the local CAS, output trees, signed action entries and per-build figures.
export {
  ACTION_PAYLOAD_TYPE,
  type ActionEntry,
  type ActionEntryRead,
  type ActionEntryRejection,
  readActionEntry,
  signActionEntry,
} from './action.js';
export { type CasCounters, LocalCas, type LocalCasOptions } from './local/cas.js';
export type { CasStats, EvictedItem, GcResult } from './local/gc.js';
export { addCacheHit, addCacheMiss, type BuildCacheFigures, NO_CACHE_FIGURES, sumCacheFigures } from './stats.js';
export { captureOutputs } from './tree/capture.js';
export { type RestoreResult, restoreOutputs } from './tree/restore.js';
export {
  loadOutputTree,
  type OutputTree,
  parseOutputTree,
  type TreeEntry,
  treeBytes,
  treeDigest,
} from './tree/tree.js';
export { type BlobStore, isActionKey } from './types.js';
