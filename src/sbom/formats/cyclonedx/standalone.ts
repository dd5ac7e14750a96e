// Ahead-of-time compilation of the CycloneDX 1.6 validator (Ajv standalone code): compiling the schema costs
// ~350 ms, which every cold build paid at run time. Used by scripts/gen-validators.mjs, never by the CLI.
import { createRequire } from 'node:module';
import { standaloneValidatorModule } from '../standalone.js';
import { compileCycloneDxSchema } from './ajv.js';

const load = createRequire(import.meta.url);

/**
 * The CommonJS source of the precompiled validator. It exports `createValidator(formats)`, which takes the object
 * `cycloneDxFormats()` returns (the custom formats are closures, which generated code cannot embed) and returns the
 * same validate function, with the same error objects, as `compileCycloneDxSchema().validate`. The Ajv runtime
 * helpers it requires resolve from where the file is written, so write it inside the package (dist/sbom/).
 */
export function cycloneDxValidatorSource(): string {
  const { _ } = load('ajv') as typeof import('ajv');
  const { ajv, validate } = compileCycloneDxSchema({ source: true, formats: _`formats` });
  return standaloneValidatorModule(ajv, validate, 'schema/vendor/cyclonedx/');
}
