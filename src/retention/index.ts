// Retention and GC: decide from the store, promotions and the OCI layout what stays and why, then apply it safely.
export {
  applyRetention,
  type RetentionEffects,
  type RetentionPhase,
  type RetentionResult,
  removeBuildDirs,
  removePlannedManifests,
  sweepPlannedLayout,
} from './apply.js';
export { planRetention, type RetentionInput } from './plan.js';
export { type PromotionFact, type Protection, protectedManifests } from './protect.js';
export { deleteRegistryCopies, type RegistryDeletion } from './registry.js';
export { describeReason, retentionReport } from './report.js';
export type { ArtifactDecision, BuildDecision, RegistryCopy, RetentionPlan, RetentionReason } from './types.js';
