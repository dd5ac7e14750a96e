// Validates documents against the official CycloneDX 1.6 JSON schema (vendored in schema/vendor/cyclonedx/).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ErrorObject } from 'ajv';
import { KilnError } from '../../../core/errors.js';
import { escapeForTerminal } from '../../../core/terminal.js';
import { compiledFile } from '../../../platform/assets.js';
import { type CycloneDxFormats, compileCycloneDxSchema, cycloneDxFormats, PRECOMPILED_VALIDATOR_FILE } from './ajv.js';

/** A schema check as Ajv makes it: true when valid, else the violations are left in `errors`. */
export interface SchemaCheck {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

// Written by the build (scripts/gen-validators.mjs) to dist/sbom/; `../sbom/` resolves there from dist/sbom/ and
// from the bundle's chunks in dist/cli/ alike. Run from src (vitest), it is missing and the schema is compiled.
const PRECOMPILED = compiledFile(`sbom/${PRECOMPILED_VALIDATOR_FILE}`);

let compiled: SchemaCheck | undefined;

/** Throws KILN_SBOM_INVALID listing every schema violation (with its instance path) unless `bom` is valid CycloneDX 1.6. */
export function validateCycloneDx(bom: unknown): void {
  compiled ??= loadPrecompiledValidator(PRECOMPILED) ?? compileCycloneDxSchema().validate;
  assertValid(compiled, bom);
}

/** The validator the build generated at `file`, or undefined when there is none (a bare `tsc`, or running from src). */
export function loadPrecompiledValidator(file: URL): SchemaCheck | undefined {
  if (!existsSync(file)) return undefined;
  const generated = createRequire(import.meta.url)(fileURLToPath(file)) as {
    createValidator(formats: CycloneDxFormats): SchemaCheck;
  };
  return generated.createValidator(cycloneDxFormats());
}

/** validateCycloneDx's verdict and report for a given validator (the precompiled one or the run-time compiled one). */
export function assertValid(check: SchemaCheck, bom: unknown): void {
  if (check(bom)) return;
  const problems = [...new Set((check.errors ?? []).map(describeSchemaError))];
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  throw new KilnError(
    'KILN_SBOM_INVALID',
    `document is not valid CycloneDX 1.6 (${count}):\n  ${problems.map((p) => escapeForTerminal(p)).join('\n  ')}`,
    {
      hint: 'A generated SBOM failing its schema is a bug in Kiln; for a supplied SBOM, fix the fields listed.',
      details: { problems },
    },
  );
}

/** One Ajv error as a line a person can act on: where, what, and the allowed values or the unexpected key. */
export function describeSchemaError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(document)' : error.instancePath;
  const values = error.keyword === 'enum' ? (error.params as { allowedValues: unknown[] }).allowedValues : [];
  const allowed =
    values.length === 0 ? '' : ` (${values.slice(0, 8).map(String).join(', ')}${values.length > 8 ? ', …' : ''})`;
  const extra =
    error.keyword === 'additionalProperties'
      ? ` "${(error.params as { additionalProperty: string }).additionalProperty}"`
      : '';
  return `${where}: ${error.message ?? error.keyword}${extra}${allowed}`;
}
