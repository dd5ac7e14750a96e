// The one Ajv set-up for the vendored CycloneDX 1.6 schema, shared by the run-time compile and the build-time generator
// (scripts/gen-validators.mjs), so the precompiled validator and the fallback accept, reject and report alike.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Ajv, CodeOptions, Format, ValidateFunction } from 'ajv';
import type { DefinedFormats } from 'ajv-formats/dist/formats.js';
import { packageFile } from '../../../platform/assets.js';

/** The precompiled validator's file name; the build writes it to dist/sbom/, next to the compiled validate.js. */
export const PRECOMPILED_VALIDATOR_FILE = 'cyclonedx-1.6.validate.cjs';

/** Named formats by name: ajv-formats' full set plus the two the schema uses that ajv-formats lacks. */
export type CycloneDxFormats = Readonly<Record<string, Format>>;

const SCHEMA_DIR = packageFile('schema/vendor/cyclonedx/');
const SCHEMA_FILES = ['spdx.schema.json', 'jsf-0.82.schema.json', 'bom-1.6.schema.json'] as const;

// Loaded on use, not imported: a build whose SBOM is memoised never validates, so it never parses Ajv (~280 KB).
// (A synchronous require keeps validation synchronous; the bundle leaves Ajv in node_modules.)
const load = createRequire(import.meta.url);

/** The formats object both validators call: the generated one receives it as its `formats` argument. */
export function cycloneDxFormats(): CycloneDxFormats {
  const { fullFormats } = load('ajv-formats/dist/formats') as { fullFormats: DefinedFormats };
  return Object.freeze({
    ...fullFormats,
    'iri-reference': (value: string) => matches(fullFormats['uri-reference'], iriToUri(value)),
    'idn-email': (value: string) => matches(fullFormats.email, value.replace(/[^\p{ASCII}]/gu, 'x')),
  });
}

/** Compiles the schema; `code` passes Ajv's code-generation options (the generator asks for the source). */
export function compileCycloneDxSchema(code: CodeOptions = {}): { ajv: Ajv; validate: ValidateFunction } {
  const { Ajv } = load('ajv') as typeof import('ajv');
  // strictRequired is off only because the upstream schema lists `required` names inside oneOf branches
  // that are declared on the parent object: valid JSON Schema that Ajv's stylistic check rejects.
  const ajv = new Ajv({ strict: true, strictRequired: false, allErrors: true, formats: cycloneDxFormats(), code });
  ajv.addKeyword({ keyword: 'meta:enum', schemaType: 'object' }); // documentation of enum values only
  const [spdx, jsf, bom] = SCHEMA_FILES.map(loadSchema);
  ajv.addSchema(spdx as object).addSchema(jsf as object);
  return { ajv, validate: ajv.compile(bom as object) };
}

function loadSchema(name: string): unknown {
  return JSON.parse(readFileSync(new URL(name, SCHEMA_DIR), 'utf8'));
}

/** RFC 3987 §3.1: an IRI maps to a URI by percent-encoding its non-ASCII characters (lone surrogates are invalid). */
function iriToUri(value: string): string | undefined {
  try {
    return value.replace(/[^\p{ASCII}]/gu, (c) => encodeURIComponent(c));
  } catch {
    return undefined;
  }
}

function matches(format: Format, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (format instanceof RegExp) return format.test(value);
  if (typeof format === 'function') return format(value) as boolean;
  if (typeof format === 'object' && 'validate' in format) {
    const v = format.validate;
    return v instanceof RegExp ? v.test(value) : typeof v === 'function' ? Boolean(v(value as never)) : false;
  }
  return typeof format === 'string' ? new RegExp(format).test(value) : Boolean(format);
}
