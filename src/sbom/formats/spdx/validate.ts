// Validates documents against the official SPDX 2.3 JSON schema (vendored in schema/vendor/spdx/) plus the rules of
// the SPDX 2.3 spec that the schema leaves to prose: SPDXID syntax and uniqueness, and relationships that resolve.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';
import { KilnError } from '../../../core/errors.js';
import { isRecord } from '../../../core/json.js';
import { escapeForTerminal } from '../../../core/terminal.js';
import { compiledFile, packageFile } from '../../../platform/assets.js';
import { describeSchemaError, loadPrecompiledValidator } from '../cyclonedx/validate.js';
import { standaloneValidatorModule } from '../standalone.js';

const SCHEMA_FILE = packageFile('schema/vendor/spdx/spdx-2.3-schema.json');
const ID_RE = /^SPDXRef-[A-Za-z0-9.-]+$/;
const DOCUMENT_REF_RE = /^DocumentRef-[A-Za-z0-9.-]+$/;
const CREATED_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const ELEMENT_LISTS = ['packages', 'files', 'snippets'] as const;

// Loaded on use, not imported, as for CycloneDX: a build that never validates never parses Ajv.
const load = createRequire(import.meta.url);
let compiled: ValidateFunction | undefined;

/** Throws KILN_SBOM_INVALID listing every problem (each with its instance path) unless `doc` is valid SPDX 2.3 JSON. */
export function validateSpdx(doc: unknown): void {
  const problems = spdxProblems(doc);
  if (problems.length === 0) return;
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  throw new KilnError(
    'KILN_SBOM_INVALID',
    `document is not valid SPDX 2.3 (${count}):\n  ${problems.map((p) => escapeForTerminal(p)).join('\n  ')}`,
    {
      hint: 'A generated SBOM failing its schema is a bug in Kiln; for a supplied SBOM, fix the fields listed.',
      details: { problems },
    },
  );
}

/** The precompiled validator's file name; the build writes it to dist/sbom/ (scripts/gen-validators.mjs). */
export const PRECOMPILED_SPDX_VALIDATOR_FILE = 'spdx-2.3.validate.cjs';
// `../sbom/` resolves to dist/sbom/ from dist/sbom/ and from the bundle's chunks in dist/cli/ alike.
const PRECOMPILED = compiledFile(`sbom/${PRECOMPILED_SPDX_VALIDATOR_FILE}`);

/** Every schema violation and spec-rule violation of `doc`, as `<instance path>: <what is wrong>`; [] when valid. */
export function spdxProblems(doc: unknown): string[] {
  // The generated validator saves compiling the schema (~50 ms) in every process that validates.
  compiled ??= (loadPrecompiledValidator(PRECOMPILED) as ValidateFunction | undefined) ?? compileSpdxSchema();
  const schema = compiled(doc) ? [] : (compiled.errors ?? []).map(describeSchemaError);
  return [...new Set([...schema, ...ruleProblems(doc)])];
}

/** Compiles the vendored schema (JSON Schema draft 2019-09, so Ajv2019) with strict checks and all errors. */
export function compileSpdxSchema(opts: { source?: boolean } = {}): ValidateFunction {
  return compileWithAjv(opts).validate;
}

function compileWithAjv(opts: { source?: boolean }) {
  const { Ajv2019 } = load('ajv/dist/2019') as typeof import('ajv/dist/2019.js');
  const ajv = new Ajv2019({ strict: true, allErrors: true, ...(opts.source ? { code: { source: true } } : {}) });
  return { ajv, validate: ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object) };
}

/**
 * The CommonJS source of the precompiled validator (Ajv standalone code), in the shape loadPrecompiledValidator
 * loads: `createValidator()` returns the same validate function compileSpdxSchema does. Used by the build only.
 */
export function spdxValidatorSource(): string {
  const { ajv, validate } = compileWithAjv({ source: true });
  return standaloneValidatorModule(ajv, validate, 'schema/vendor/spdx/');
}

/** SPDX 2.3 §6.2–6.6, §7.2 and §11, checked on whatever shape `doc` has (the schema reports wrong shapes). */
function ruleProblems(doc: unknown): string[] {
  if (!isRecord(doc)) return [];
  const problems = headerProblems(doc);
  const ids = elementIds(doc, problems);
  // With an element list of the wrong shape (reported by the schema), every reference into it would be noise.
  if (ELEMENT_LISTS.every((list) => doc[list] === undefined || Array.isArray(doc[list]))) {
    referenceProblems(doc, ids, problems);
  }
  return problems;
}

function headerProblems(doc: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const fixed = { spdxVersion: 'SPDX-2.3', dataLicense: 'CC0-1.0', SPDXID: 'SPDXRef-DOCUMENT' } as const;
  for (const [field, wanted] of Object.entries(fixed)) {
    const actual = doc[field];
    if (typeof actual === 'string' && actual !== wanted)
      problems.push(`/${field}: must be "${wanted}", got "${actual}"`);
  }
  const created = isRecord(doc.creationInfo) ? doc.creationInfo.created : undefined;
  if (typeof created === 'string' && !CREATED_RE.test(created)) {
    problems.push(`/creationInfo/created: must be a UTC time YYYY-MM-DDThh:mm:ssZ, got "${created}"`);
  }
  const namespace = doc.documentNamespace;
  if (typeof namespace === 'string' && !/^[A-Za-z][A-Za-z0-9+.-]*:[^\s#]+$/.test(namespace)) {
    problems.push(`/documentNamespace: must be an absolute URI without "#", got "${namespace}"`);
  }
  return problems;
}

/** The SPDXIDs of the document and its elements, each with the path that declares it; pushes bad and repeated ones. */
function elementIds(doc: Record<string, unknown>, problems: string[]): Map<string, string> {
  const ids = new Map<string, string>([['SPDXRef-DOCUMENT', '/SPDXID']]);
  for (const list of ELEMENT_LISTS) {
    for (const [i, element] of entries(doc[list])) {
      const id = isRecord(element) ? element.SPDXID : undefined;
      if (typeof id !== 'string') continue;
      const path = `/${list}/${i}/SPDXID`;
      if (!ID_RE.test(id)) problems.push(`${path}: must match SPDXRef-[A-Za-z0-9.-]+, got "${id}"`);
      const first = ids.get(id);
      if (first === undefined) ids.set(id, path);
      else problems.push(`${path}: "${id}" is already the SPDXID at ${first}`);
    }
  }
  return ids;
}

/** Pushes every relationship end and documentDescribes entry that names neither an element nor an external one. */
function referenceProblems(doc: Record<string, unknown>, ids: ReadonlyMap<string, string>, problems: string[]): void {
  const documentRefs = new Set<string>();
  for (const [i, ref] of entries(doc.externalDocumentRefs)) {
    const id = isRecord(ref) ? ref.externalDocumentId : undefined;
    if (typeof id !== 'string') continue;
    if (DOCUMENT_REF_RE.test(id)) documentRefs.add(id);
    else problems.push(`/externalDocumentRefs/${i}/externalDocumentId: must match DocumentRef-[A-Za-z0-9.-]+`);
  }
  const check = (path: string, ref: unknown, orNone = false) => {
    if (typeof ref !== 'string' || ids.has(ref) || (orNone && (ref === 'NONE' || ref === 'NOASSERTION'))) return;
    const colon = ref.indexOf(':');
    if (colon > 0 && documentRefs.has(ref.slice(0, colon)) && ID_RE.test(ref.slice(colon + 1))) return;
    problems.push(`${path}: "${ref}" is no element of this document nor of a declared external document`);
  };
  for (const [i, ref] of entries(doc.documentDescribes)) check(`/documentDescribes/${i}`, ref);
  for (const [i, rel] of entries(doc.relationships)) {
    if (!isRecord(rel)) continue;
    check(`/relationships/${i}/spdxElementId`, rel.spdxElementId);
    check(`/relationships/${i}/relatedSpdxElement`, rel.relatedSpdxElement, true);
  }
}

function entries(value: unknown): [number, unknown][] {
  return Array.isArray(value) ? [...value.entries()] : [];
}
