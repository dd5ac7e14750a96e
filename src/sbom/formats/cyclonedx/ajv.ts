// The one Ajv set-up for the vendored CycloneDX 1.6 schema, shared by the run-time compile and the build-time generator
// (scripts/gen-validators.mjs), so the precompiled validator and the fallback accept, reject and report alike.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Ajv, CodeOptions, Format, KeywordCxt, ValidateFunction } from 'ajv';
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
  ajv.addKeyword(linearUniqueItems());
  const [spdx, jsf, bom] = SCHEMA_FILES.map(loadSchema);
  ajv.addSchema(spdx as object).addSchema(jsf as object);
  return { ajv, validate: ajv.compile(withLinearUniqueItems(bom)) };
}

/** The keyword that stands for `uniqueItems: true` in the compiled schema (see linearUniqueItems). */
const UNIQUE_ITEMS = 'kiln:uniqueItems';

/**
 * The schema with every `uniqueItems: true` renamed to UNIQUE_ITEMS. Ajv checks `uniqueItems` on arrays of objects
 * (components, dependencies) and of `$ref`'d strings (dependsOn) by comparing every pair: a 20,000-package SBOM took
 * minutes. The rename keeps the file as published and the rule as the schema states it.
 */
function withLinearUniqueItems(schema: unknown): object {
  return JSON.parse(JSON.stringify(schema), (key, value: unknown) =>
    key === '' || value === null || typeof value !== 'object' || Array.isArray(value) || !('uniqueItems' in value)
      ? value
      : Object.fromEntries(Object.entries(value).map(([k, v]) => [k === 'uniqueItems' ? UNIQUE_ITEMS : k, v])),
  ) as object;
}

/**
 * `uniqueItems` in linear time: each item's canonical JSON (keys sorted) goes into a map, so two items are equal
 * exactly when JSON Schema says they are. It fails with Ajv's own message and params for the same pair (the last
 * item that repeats an earlier one, and the nearest earlier one), so reports read as before.
 */
function linearUniqueItems() {
  const { _, str } = load('ajv') as typeof import('ajv');
  const { useFunc } = load('ajv/dist/compile/util') as typeof import('ajv/dist/compile/util.js');
  return {
    keyword: UNIQUE_ITEMS,
    type: 'array' as const,
    schemaType: 'boolean' as const,
    error: {
      message: ({ params }: { params: Record<string, unknown> }) =>
        str`must NOT have duplicate items (items ## ${params.j as string} and ${params.i as string} are identical)`,
      params: ({ params }: { params: Record<string, unknown> }) =>
        _`{i: ${params.i as string}, j: ${params.j as string}}`,
    },
    code(cxt: KeywordCxt) {
      if (cxt.schema !== true) return;
      const repeat = cxt.gen.const('repeat', _`${useFunc(cxt.gen, repeatedItem)}(${cxt.data})`);
      cxt.setParams({ i: _`${repeat}[1]`, j: _`${repeat}[0]` });
      cxt.fail(_`${repeat} !== undefined`);
    },
  };
}

/**
 * [j, i]: `items[i]` is the last item equal to an earlier one and `items[j]` the nearest such earlier one; undefined
 * when all differ. Self-contained, because the build writes its source into the precompiled validator (`code`).
 */
function repeatedItem(items: readonly unknown[]): [number, number] | undefined {
  const canonical = (value: unknown): string => {
    if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
    if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`).join(',')}}`;
  };
  // What two equal objects must share, cheaply: their scalar properties. Items of a large array (components,
  // dependencies) differ there (bom-ref, ref), so the whole canonical JSON is only written for items that share it.
  // Unequal items may share an outline (1 and '1'); that only costs their canonical JSON.
  const outline = (value: object): string => {
    if (Array.isArray(value)) return '[';
    const record = value as Record<string, unknown>;
    const scalars: string[] = [];
    for (const k of Object.keys(record)) {
      const v = record[k];
      if (v === null || typeof v !== 'object') scalars.push(`${k}\u0000${v}`);
    }
    return scalars.sort().join('\u0001');
  };
  // Strings, numbers, booleans and null are their own keys (a Map tells 1 from '1'). Objects and arrays are grouped
  // by outline, and within a group keyed by their canonical JSON, once a second item joins the group.
  const lastScalar = new Map<unknown, number>();
  const groups = new Map<string, { first: number; last?: Map<string, number> }>();
  let repeat: [number, number] | undefined;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (item === null || typeof item !== 'object') {
      const j = lastScalar.get(item);
      if (j !== undefined) repeat = [j, i];
      lastScalar.set(item, i);
      continue;
    }
    const key = outline(item);
    const group = groups.get(key);
    if (group === undefined) {
      groups.set(key, { first: i });
      continue;
    }
    group.last ??= new Map([[canonical(items[group.first]), group.first]]);
    const exact = canonical(item);
    const j = group.last.get(exact);
    if (j !== undefined) repeat = [j, i];
    group.last.set(exact, i);
  }
  return repeat;
}
repeatedItem.code = `(${repeatedItem.toString()})`;

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
