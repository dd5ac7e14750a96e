// The SBOM stage's public API: lockfile readers → ComponentGraph → CycloneDX and SPDX documents.

export { type BuildTool, buildToolPurl } from './build-tools.js';
export { type CycloneDxMeta, cycloneDxDocument, serializeBom } from './formats/cyclonedx/document.js';
export type {
  CycloneDxBom,
  CycloneDxComponent,
  CycloneDxDependency,
  CycloneDxFormula,
} from './formats/cyclonedx/types.js';
export { validateCycloneDx } from './formats/cyclonedx/validate.js';
export {
  type SpdxDocument,
  type SpdxMeta,
  type SpdxPackage,
  type SpdxRelationship,
  serializeSpdx,
  spdxDocument,
} from './formats/spdx/document.js';
export { validateSpdx } from './formats/spdx/validate.js';
export type { Component, ComponentGraph, ComponentHash, ComponentScope, HashAlg } from './graph.js';
export { mergeGraphs } from './graph.js';
export { type ReadCargoLockfileOptions, readCargoLockfile } from './lockfiles/cargo/lockfile.js';
export { cargoPurl } from './lockfiles/cargo/purl.js';
export { golangPurl, readGoModules } from './lockfiles/go/sum.js';
export { type GenerateNpmSbomOptions, generateNpmSbom, type NpmSbom } from './lockfiles/npm/generate.js';
export { type ReadNpmLockfileOptions, readNpmLockfile } from './lockfiles/npm/lockfile.js';
export { hostNpmPlatform, type NpmPlatform } from './lockfiles/npm/platform.js';
export type { PnpmProject } from './lockfiles/pnpm/lock-graph.js';
export { type ReadPnpmLockfileOptions, readPnpmLockfile } from './lockfiles/pnpm/lockfile.js';
export { normalizePythonName, pypiPurl } from './lockfiles/python/name.js';
export { type ReadPoetryLockfileOptions, readPoetryLockfile } from './lockfiles/python/poetry.js';
export {
  type ReadRequirementsOptions,
  readRequirementsTxt,
  requirementIncludes,
} from './lockfiles/python/requirements.js';
export { readUvLockfile } from './lockfiles/python/uv.js';
export { readYarnLockfile, type YarnLockfileFormat, yarnLockfileFormat } from './lockfiles/yarn/lockfile.js';
