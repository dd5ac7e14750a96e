// The subset of CycloneDX 1.6 JSON (https://cyclonedx.org/docs/1.6/json/) that Kiln writes.
import type { HashAlg } from '../../graph.js';

/** A hash of a component's archive. */
export interface CycloneDxHash {
  readonly alg: HashAlg;
  readonly content: string;
}

/** A name/value pair from the CycloneDX property taxonomy (e.g. `cdx:npm:package:development`). */
export interface CycloneDxProperty {
  readonly name: string;
  readonly value: string;
}

/** Licenses as the package declares them: one SPDX expression, or a named license that is not an expression. */
export type CycloneDxLicenses =
  | readonly [{ readonly expression: string; readonly acknowledgement: 'declared' }]
  | readonly [{ readonly license: { readonly name: string; readonly acknowledgement: 'declared' } }];

/** How a component is needed in the described software. */
export type CycloneDxScope = 'required' | 'optional' | 'excluded';

/** A library the project depends on, or the project/tool itself (`application`). */
export interface CycloneDxComponent {
  readonly type: 'library' | 'application';
  readonly 'bom-ref'?: string;
  readonly group?: string;
  readonly name: string;
  readonly version?: string;
  readonly purl?: string;
  readonly scope?: CycloneDxScope;
  readonly hashes?: readonly CycloneDxHash[];
  readonly licenses?: CycloneDxLicenses;
  readonly properties?: readonly CycloneDxProperty[];
}

/** How the artifact was made (CycloneDX 1.6 `formulation`): Kiln lists the build tools as the formula's components. */
export interface CycloneDxFormula {
  readonly components: readonly CycloneDxComponent[];
}

/** The direct dependencies of one component (or of the root), by bom-ref. */
export interface CycloneDxDependency {
  readonly ref: string;
  readonly dependsOn: readonly string[];
}

/** A CycloneDX 1.6 BOM as Kiln produces it; its outline is frozen. */
export interface CycloneDxBom {
  readonly $schema: 'http://cyclonedx.org/schema/bom-1.6.schema.json';
  readonly bomFormat: 'CycloneDX';
  readonly specVersion: '1.6';
  readonly serialNumber: string;
  readonly version: 1;
  readonly metadata: {
    readonly timestamp: string;
    readonly tools: { readonly components: readonly CycloneDxComponent[] };
    readonly component: CycloneDxComponent;
  };
  readonly components: readonly CycloneDxComponent[];
  readonly dependencies: readonly CycloneDxDependency[];
  /** Present only when build tools were given, so documents without them keep their bytes. */
  readonly formulation?: readonly CycloneDxFormula[];
}
