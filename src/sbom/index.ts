// The SBOM stage's public API: lockfile readers → ComponentGraph → CycloneDX and SPDX documents.

export { type CycloneDxMeta, cycloneDxDocument, serializeBom } from './cyclonedx.js';
export type { CycloneDxBom, CycloneDxComponent, CycloneDxDependency } from './cyclonedx-types.js';
export { type GenerateNpmSbomOptions, generateNpmSbom, type NpmSbom } from './generate.js';
export type { Component, ComponentGraph, ComponentHash, ComponentScope, HashAlg } from './graph.js';
export { readNpmLockfile } from './npm-lockfile.js';
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
