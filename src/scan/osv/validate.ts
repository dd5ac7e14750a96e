// Checks OSV records against the official OSV JSON schema (vendored in schema/vendor/osv/) plus the range rules the
// schema leaves loose and version matching relies on; every problem is reported with its path, not just the first.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ErrorObject, Format, ValidateFunction } from 'ajv';
import { deepFreeze, isRecord } from '../../core/json.js';
import { packageFile } from '../../platform/assets.js';
import type { OsvRecord } from './types.js';

/** The outcome of checking one parsed JSON value: the frozen record, or every problem as `<path>: <what is wrong>`. */
export type OsvCheck =
  | { readonly kind: 'valid'; readonly record: OsvRecord }
  | { readonly kind: 'invalid'; readonly problems: readonly string[] };

const SCHEMA_FILE = packageFile('schema/vendor/osv/osv-schema.json');
const EVENT_KEYS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;
/** Top-level fields the schema allows to be null; the record type leaves them out instead. */
const NULLABLE = ['aliases', 'severity', 'affected', 'references'] as const;

// Loaded on use, not imported, as for the SBOM schemas: a run that never imports OSV data never parses Ajv.
const load = createRequire(import.meta.url);
let compiled: { validate: ValidateFunction; schema: unknown } | undefined;

/**
 * Checks `doc` (one parsed JSON value) and, when it is a valid OSV record, returns it frozen (nested values are frozen
 * in place, so pass a value nothing else holds) with the fields the schema lets be null dropped when they are.
 */
export function checkOsvRecord(doc: unknown): OsvCheck {
  const problems = osvProblems(doc);
  if (problems.length > 0 || !isRecord(doc)) return { kind: 'invalid', problems };
  const record = withoutNulls(doc, NULLABLE);
  if (Array.isArray(record.affected)) {
    record.affected = record.affected.map((a: unknown) => (isRecord(a) ? withoutNulls(a, ['severity']) : a));
  }
  return { kind: 'valid', record: deepFreeze(record as unknown as OsvRecord) };
}

/** Every schema violation and range-rule violation of `doc`, as `<instance path>: <what is wrong>`; [] when valid. */
export function osvProblems(doc: unknown): string[] {
  compiled ??= compileOsvSchema();
  const { validate, schema } = compiled;
  const errors = validate(doc) ? [] : (validate.errors ?? []);
  const described = relevant(errors).map((error) => describe(error, schema));
  const problems = [...new Set([...described, ...rangeProblems(doc)])];
  return errors.length > 0 && problems.length === 0 ? ['(record): does not match the OSV schema'] : problems;
}

/** Compiles the vendored schema (JSON Schema draft 2020-12, so Ajv2020) with all errors and ajv-formats' formats. */
export function compileOsvSchema(): { validate: ValidateFunction; schema: unknown } {
  const { Ajv2020 } = load('ajv/dist/2020') as typeof import('ajv/dist/2020.js');
  const { fullFormats } = load('ajv-formats/dist/formats') as { fullFormats: Record<string, Format> };
  // strictRequired and strictTypes are off only because the upstream schema names `required` properties and uses
  // `items` in if/then branches without repeating `properties` and `type`: valid JSON Schema Ajv's style checks reject.
  const ajv = new Ajv2020({
    strict: true,
    strictRequired: false,
    strictTypes: false,
    allErrors: true,
    // A reference URL with a space or `|` in it (osv.dev does not check formats) must not cost the whole record
    // its affected packages: URIs are checked as strings, times strictly (matching orders by them).
    formats: { ...fullFormats, uri: true },
  });
  const schema: unknown = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'));
  return { validate: ajv.compile(schema as object), schema };
}

/**
 * Drops errors that only restate others: a failed `if` (its `then` errors say what is wrong), the per-branch errors
 * of a `oneOf`, and `contains` (the rule "a range needs an introduced event" is reported in plainer words below).
 */
function relevant(errors: readonly ErrorObject[]): ErrorObject[] {
  const summaries = errors
    .filter((e) => e.keyword === 'oneOf' || e.keyword === 'contains')
    .map((e) => `${e.schemaPath}/`);
  return errors.filter(
    (e) => e.keyword !== 'if' && e.keyword !== 'contains' && !summaries.some((s) => e.schemaPath.startsWith(s)),
  );
}

/** One Ajv error as a line: where, what, allowed values or the unexpected key, and the schema's title for the rule. */
function describe(error: ErrorObject, schema: unknown): string {
  const where = error.instancePath === '' ? '(record)' : error.instancePath;
  let what = error.message ?? error.keyword;
  const params = error.params as { allowedValues?: unknown[]; additionalProperty?: string; pattern?: string };
  if (error.keyword === 'enum') what += ` (${(params.allowedValues ?? []).map(String).join(', ')})`;
  if (error.keyword === 'additionalProperties') what += ` "${params.additionalProperty}"`;
  const pattern = params.pattern ?? '';
  if (error.keyword === 'pattern' && pattern.length > 48) what = `must match pattern "${pattern.slice(0, 40)}…"`;
  const title = ruleTitle(schema, error.schemaPath);
  return `${where}: ${what}${title === undefined ? '' : ` (${title})`}`;
}

/** The title of the deepest titled schema on the path to the failing keyword, below the root ("Open Source Vulnerability"). */
function ruleTitle(schema: unknown, schemaPath: string): string | undefined {
  let node = schema;
  let title: string | undefined;
  for (const segment of schemaPath.replace(/^#\//, '').split('/').slice(0, -1)) {
    node = isRecord(node) || Array.isArray(node) ? (node as Record<string, unknown>)[segment] : undefined;
    if (isRecord(node) && typeof node.title === 'string') title = node.title;
  }
  return title;
}

/**
 * Range rules matching relies on: every range has an `introduced` event (else nothing says where affected versions
 * start), and SEMVER/ECOSYSTEM events name a non-empty version (GIT events are already held to commit hashes).
 */
function rangeProblems(doc: unknown): string[] {
  const problems: string[] = [];
  for (const [i, affected] of entries(isRecord(doc) ? doc.affected : undefined)) {
    for (const [j, range] of entries(isRecord(affected) ? affected.ranges : undefined)) {
      if (!isRecord(range) || !Array.isArray(range.events)) continue;
      const path = `/affected/${i}/ranges/${j}/events`;
      if (!range.events.some((event) => isRecord(event) && event.introduced !== undefined)) {
        problems.push(
          `${path}: has no "introduced" event (every range must say where affected versions start, "0" for all)`,
        );
      }
      if (range.type !== 'SEMVER' && range.type !== 'ECOSYSTEM') continue;
      for (const [k, event] of entries(range.events)) {
        for (const key of EVENT_KEYS) {
          const version = isRecord(event) ? event[key] : undefined;
          if (typeof version === 'string' && version.trim() === '') {
            problems.push(`${path}/${k}/${key}: must be a version, not empty, in a ${range.type} range`);
          }
        }
      }
    }
  }
  return problems;
}

function withoutNulls(object: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([key, value]) => !(value === null && keys.includes(key))));
}

function entries(value: unknown): [number, unknown][] {
  return Array.isArray(value) ? [...value.entries()] : [];
}
