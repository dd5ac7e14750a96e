// Deterministic packaging of step outputs.
export { copyFileArtifact, listTree, type PackedArtifact, packDirectory } from './pack.js';
export { resolveInside } from './paths.js';
