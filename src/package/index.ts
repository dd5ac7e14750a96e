// Deterministic packaging of step outputs.
export { type ArtifactSpec, packageArtifact } from './artifact.js';
export { copyFileArtifact, listTree, type PackedArtifact, packDirectory } from './pack.js';
export { resolveInside } from './paths.js';
