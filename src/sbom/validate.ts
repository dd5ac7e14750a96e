// Validates documents against the official CycloneDX 1.6 JSON schema (vendored in schema/vendor/cyclonedx/).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type addFormatsPlugin from 'ajv-formats';
import { KilnError } from '../core/errors.js';

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module object's type.
type AddFormats = typeof addFormatsPlugin.default;

const SCHEMA_DIR = new URL('../../schema/vendor/cyclonedx/', import.meta.url);
const SCHEMA_FILES = ['spdx.schema.json', 'jsf-0.82.schema.json', 'bom-1.6.schema.json'] as const;

let compiled: ValidateFunction | undefined;

/** Throws E_SBOM_INVALID listing every schema violation (with its instance path) unless `bom` is valid CycloneDX 1.6. */
export function validateCycloneDx(bom: unknown): void {
  compiled ??= compileValidator();
  if (compiled(bom)) return;
  const problems = [...new Set((compiled.errors ?? []).map(describe))];
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  throw new KilnError('E_SBOM_INVALID', `document is not valid CycloneDX 1.6 (${count}):\n  ${problems.join('\n  ')}`, {
    hint: 'A generated SBOM failing its schema is a bug in Kiln; for a supplied SBOM, fix the fields listed.',
    details: { problems },
  });
}

function compileValidator(): ValidateFunction {
  // Loaded here, not imported: a build whose SBOM is memoised never validates, so it never parses Ajv (~280 KB).
  // (A synchronous require keeps validateCycloneDx synchronous; the bundle leaves Ajv in node_modules.)
  const load = createRequire(import.meta.url);
  const { Ajv } = load('ajv') as typeof import('ajv');
  const addFormats = load('ajv-formats') as AddFormats;
  // strictRequired is off only because the upstream schema lists `required` names inside oneOf branches
  // that are declared on the parent object: valid JSON Schema that Ajv's stylistic check rejects.
  const ajv = new Ajv({ strict: true, strictRequired: false, allErrors: true });
  addFormats(ajv);
  const uriReference = addFormats.get('uri-reference', 'full');
  const email = addFormats.get('email', 'full');
  ajv.addFormat('iri-reference', (value: string) => matches(uriReference, iriToUri(value)));
  ajv.addFormat('idn-email', (value: string) => matches(email, value.replace(/[^\p{ASCII}]/gu, 'x')));
  ajv.addKeyword({ keyword: 'meta:enum', schemaType: 'object' }); // documentation of enum values only
  const [spdx, jsf, bom] = SCHEMA_FILES.map(loadSchema);
  ajv.addSchema(spdx as object).addSchema(jsf as object);
  return ajv.compile(bom as object);
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

function matches(format: ReturnType<AddFormats['get']>, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (format instanceof RegExp) return format.test(value);
  if (typeof format === 'function') return format(value) as boolean;
  if (typeof format === 'object' && 'validate' in format) {
    const v = format.validate;
    return v instanceof RegExp ? v.test(value) : typeof v === 'function' ? Boolean(v(value as never)) : false;
  }
  return typeof format === 'string' ? new RegExp(format).test(value) : Boolean(format);
}

function describe(error: ErrorObject): string {
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
