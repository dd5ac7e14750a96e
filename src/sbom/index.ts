// The SBOM stage's public API: lockfile readers → ComponentGraph → CycloneDX and SPDX documents.

export { type BuildTool, buildToolPurl } from './build-tools.js';
export { type ReadCargoLockfileOptions, readCargoLockfile } from './cargo-lockfile.js';
export { cargoPurl } from './cargo-purl.js';
export { type CycloneDxMeta, cycloneDxDocument, serializeBom } from './cyclonedx.js';
export type { CycloneDxBom, CycloneDxComponent, CycloneDxDependency, CycloneDxFormula } from './cyclonedx-types.js';
export { type GenerateNpmSbomOptions, generateNpmSbom, type NpmSbom } from './generate.js';
export { golangPurl, readGoModules } from './go-sum.js';
export type { Component, ComponentGraph, ComponentHash, ComponentScope, HashAlg } from './graph.js';
export { mergeGraphs } from './graph.js';
export { type ReadNpmLockfileOptions, readNpmLockfile } from './npm-lockfile.js';
export { hostNpmPlatform, type NpmPlatform } from './npm-platform.js';
export type { PnpmProject } from './pnpm-lock-graph.js';
export { type ReadPnpmLockfileOptions, readPnpmLockfile } from './pnpm-lockfile.js';
export { normalizePythonName, pypiPurl } from './python-name.js';
export { type ReadPoetryLockfileOptions, readPoetryLockfile } from './python-poetry.js';
export { type ReadRequirementsOptions, readRequirementsTxt, requirementIncludes } from './python-requirements.js';
export { readUvLockfile } from './python-uv.js';
export {
  SPDX_JSON,
  SPDX_PREDICATE,
  type SpdxDocument,
  type SpdxMeta,
  type SpdxPackage,
  type SpdxRelationship,
  serializeSpdx,
  spdxDocument,
} from './spdx.js';
export { validateSpdx } from './spdx-validate.js';
export { validateCycloneDx } from './validate.js';
export { readYarnLockfile, type YarnLockfileFormat, yarnLockfileFormat } from './yarn-lockfile.js';
