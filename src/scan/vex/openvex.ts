// OpenVEX documents (github.com/openvex/spec): checked once, then used to suppress findings their authors ruled out.
import { KilnError } from '../../core/errors.js';
import { deepFreeze, isRecord } from '../../core/json.js';
import { parseJsonText } from '../../core/json-text.js';

/** A statement's verdict on a vulnerability in its products. */
export type VexStatus = 'not_affected' | 'affected' | 'fixed' | 'under_investigation';

/** One statement: the products (and their subcomponents) a vulnerability has `status` in. */
export interface VexStatement {
  /** The vulnerability's main name, e.g. `CVE-2021-44228`. */
  readonly vulnerability: string;
  readonly aliases: readonly string[];
  /** Product identifiers: each product's `@id` and `identifiers.purl`. */
  readonly products: readonly string[];
  /** Subcomponent identifiers of all the statement's products, read the same way. */
  readonly subcomponents: readonly string[];
  readonly status: VexStatus;
  readonly justification?: string;
  readonly impactStatement?: string;
  /** The statement's own timestamp; absent means it inherits the document's. */
  readonly timestamp?: string;
}

/** A checked OpenVEX document. */
export interface VexDocument {
  readonly id: string;
  readonly author: string;
  readonly timestamp: string;
  readonly statements: readonly VexStatement[];
}

const STATUSES: readonly string[] = ['not_affected', 'affected', 'fixed', 'under_investigation'];
/** The closed list of justifications (CISA's "Vulnerability Exploitability eXchange – Status Justifications"). */
const JUSTIFICATIONS: readonly string[] = [
  'component_not_present',
  'vulnerable_code_not_present',
  'vulnerable_code_not_in_execute_path',
  'vulnerable_code_cannot_be_controlled_by_adversary',
  'inline_mitigations_already_exist',
];
const CONTEXT = 'https://openvex.dev/ns/v0.2.0';
/** Contexts before v0.2.0, where `vulnerability` and `products` could be plain strings. */
const LEGACY_CONTEXT = /^https:\/\/openvex\.dev\/ns(\/v0\.0\.\d+)?$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

type Problems = string[];

/** Parses and checks an OpenVEX JSON document; `file` names it in errors, which list every problem with its path. */
export function parseOpenVex(text: string, file: string): VexDocument {
  const parsed = parseJsonText(text);
  if (!parsed.ok) {
    throw new KilnError(
      'KILN_CONFIG_INVALID',
      `${file}:${parsed.line}:${parsed.column}: not valid JSON: ${parsed.reason}`,
      {
        hint: 'OpenVEX documents are JSON; fix the syntax error (vexctl writes valid documents).',
        details: { file, line: parsed.line, column: parsed.column },
      },
    );
  }
  const problems: Problems = [];
  const doc = readDocument(parsed.value, problems);
  if (doc === undefined || problems.length > 0) {
    const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
    throw new KilnError(
      'KILN_CONFIG_INVALID',
      `${file} is not a valid OpenVEX document (${count}):\n  ${problems.join('\n  ')}`,
      {
        hint: 'Fix the fields named above; the format is specified at https://github.com/openvex/spec.',
        details: { file, problems },
      },
    );
  }
  return deepFreeze(doc);
}

function readDocument(value: unknown, problems: Problems): VexDocument | undefined {
  if (!isRecord(value)) {
    problems.push('(document): expected a JSON object with @context, @id, author, timestamp, version and statements');
    return undefined;
  }
  const context = value['@context'];
  const legacy = typeof context === 'string' && LEGACY_CONTEXT.test(context);
  if (context !== CONTEXT && !legacy) {
    problems.push(
      `@context: expected "${CONTEXT}" (or https://openvex.dev/ns… of older versions), found ${show(context)}`,
    );
  }
  const id = text(value, '@id', '', problems, true);
  const author = text(value, 'author', '', problems, true);
  const timestamp = time(value, 'timestamp', '', problems, true);
  time(value, 'last_updated', '', problems, false);
  const version = value.version;
  const versionOk =
    (Number.isInteger(version) && (version as number) >= 1) ||
    (legacy && (version === undefined || (typeof version === 'string' && /^[1-9]\d*$/.test(version))));
  if (!versionOk) problems.push(`version: expected an integer ≥ 1 (raise it on every change), found ${show(version)}`);
  const statements = value.statements;
  if (!Array.isArray(statements) || statements.length === 0) {
    problems.push(`statements: expected a non-empty array of statements, found ${show(statements)}`);
    return undefined;
  }
  const read = statements.map((s, i) => readStatement(s, `statements[${i}]`, legacy, problems));
  return {
    id: id ?? '',
    author: author ?? '',
    timestamp: timestamp ?? '',
    statements: read.filter((s) => s !== undefined),
  };
}

function readStatement(value: unknown, path: string, legacy: boolean, problems: Problems): VexStatement | undefined {
  if (!isRecord(value)) {
    problems.push(`${path}: expected an object, found ${show(value)}`);
    return undefined;
  }
  const vuln = readVulnerability(value.vulnerability, `${path}.vulnerability`, legacy, problems);
  const status = value.status;
  if (typeof status !== 'string' || !STATUSES.includes(status)) {
    problems.push(`${path}.status: expected one of ${STATUSES.join(', ')}, found ${show(status)}`);
  }
  const justification = text(value, 'justification', path, problems, false);
  if (justification !== undefined && !JUSTIFICATIONS.includes(justification)) {
    problems.push(
      `${path}.justification: ${show(justification)} is not an OpenVEX justification (use one of ${JUSTIFICATIONS.join(', ')})`,
    );
  }
  const impactStatement = text(value, 'impact_statement', path, problems, false);
  const action = text(value, 'action_statement', path, problems, false);
  text(value, 'status_notes', path, problems, false);
  const timestamp = time(value, 'timestamp', path, problems, false);
  checkStatusFields(
    path,
    status,
    { justification, impact_statement: impactStatement, action_statement: action },
    problems,
  );
  const ids = readProducts(value, path, legacy, problems);
  if (vuln === undefined || ids === undefined || typeof status !== 'string' || !STATUSES.includes(status))
    return undefined;
  return {
    vulnerability: vuln.name,
    aliases: vuln.aliases,
    ...ids,
    status: status as VexStatus,
    ...(justification === undefined ? {} : { justification }),
    ...(impactStatement === undefined ? {} : { impactStatement }),
    ...(timestamp === undefined ? {} : { timestamp }),
  };
}

/** The spec's rules (as go-vex's Statement.Validate enforces them): why for not_affected, what to do for affected. */
function checkStatusFields(
  path: string,
  status: unknown,
  fields: Record<string, string | undefined>,
  problems: Problems,
) {
  if (status === 'not_affected' && fields.justification === undefined && fields.impact_statement === undefined) {
    problems.push(`${path}.justification: required when status is not_affected (or give impact_statement)`);
  }
  if (status === 'affected' && fields.action_statement === undefined) {
    problems.push(`${path}.action_statement: required when status is affected (say what users should do)`);
  }
  for (const [field, value] of Object.entries(fields)) {
    const allowedFor = field === 'action_statement' ? 'affected' : 'not_affected';
    if (value !== undefined && typeof status === 'string' && STATUSES.includes(status) && status !== allowedFor) {
      problems.push(`${path}.${field}: only allowed when status is ${allowedFor} (this statement is ${status})`);
    }
  }
}

function readVulnerability(value: unknown, path: string, legacy: boolean, problems: Problems) {
  if (legacy && typeof value === 'string' && value.trim() !== '') return { name: value, aliases: [] };
  if (!isRecord(value)) {
    problems.push(`${path}: expected an object like {"name": "CVE-2021-44228"}, found ${show(value)}`);
    return undefined;
  }
  const name = text(value, 'name', path, problems, true);
  const aliases = value.aliases ?? [];
  const aliasesOk = Array.isArray(aliases) && aliases.every((a) => typeof a === 'string' && a.trim() !== '');
  if (!aliasesOk) problems.push(`${path}.aliases: expected an array of vulnerability ids, found ${show(aliases)}`);
  return name === undefined || !aliasesOk ? undefined : { name, aliases: aliases as string[] };
}

/** The product and subcomponent ids of a statement; a standalone document must name at least one product. */
function readProducts(statement: Record<string, unknown>, path: string, legacy: boolean, problems: Problems) {
  const products = statement.products;
  if (!Array.isArray(products) || products.length === 0) {
    problems.push(
      `${path}.products: expected a non-empty array of products like {"@id": "pkg:npm/app@1.0.0"}, found ${show(products)}`,
    );
    return undefined;
  }
  const list = (items: unknown, where: string, plain: boolean): string[] => {
    if (items === undefined) return [];
    if (Array.isArray(items)) return items.flatMap((item, k) => readComponent(item, `${where}[${k}]`, plain, problems));
    problems.push(`${where}: expected an array, found ${show(items)}`);
    return [];
  };
  const ids = list(products, `${path}.products`, legacy);
  const subcomponents = products.flatMap((product, j) =>
    isRecord(product) ? list(product.subcomponents, `${path}.products[${j}].subcomponents`, false) : [],
  );
  // v0.0.x listed subcomponents beside the products, as plain ids.
  if (legacy) subcomponents.push(...list(statement.subcomponents, `${path}.subcomponents`, true));
  return { products: [...new Set(ids)], subcomponents: [...new Set(subcomponents)] };
}

/** A component's ids (`@id`, `identifiers.purl`); it must be identified somehow (`@id`, identifiers or hashes). */
function readComponent(value: unknown, path: string, legacy: boolean, problems: Problems): string[] {
  if (legacy && typeof value === 'string' && value.trim() !== '') return [value];
  if (!isRecord(value)) {
    problems.push(`${path}: expected an object like {"@id": "pkg:npm/app@1.0.0"}, found ${show(value)}`);
    return [];
  }
  const id = text(value, '@id', path, problems, false);
  const identifiers = value.identifiers;
  const purl = isRecord(identifiers) ? text(identifiers, 'purl', `${path}.identifiers`, problems, false) : undefined;
  if (identifiers !== undefined && !isRecord(identifiers))
    problems.push(`${path}.identifiers: expected an object, found ${show(identifiers)}`);
  if (id === undefined && identifiers === undefined && value.hashes === undefined) {
    problems.push(`${path}: names no component: give "@id" (a purl such as pkg:npm/app@1.0.0) or identifiers.purl`);
  }
  return [id, purl].filter((x) => x !== undefined);
}

/** A string field: undefined (and a problem when required) if absent; a problem if it is not a non-empty string. */
function text(obj: Record<string, unknown>, key: string, path: string, problems: Problems, required: boolean) {
  const value = obj[key];
  const where = path === '' ? key : `${path}.${key}`;
  if (value === undefined) {
    if (required) problems.push(`${where}: required`);
    return undefined;
  }
  if (typeof value === 'string' && value.trim() !== '') return value;
  problems.push(`${where}: expected a non-empty string, found ${show(value)}`);
  return undefined;
}

/** An RFC 3339 date-time field, e.g. 2023-01-08T18:02:03-06:00. */
function time(obj: Record<string, unknown>, key: string, path: string, problems: Problems, required: boolean) {
  const value = text(obj, key, path, problems, required);
  if (value === undefined || (RFC3339.test(value) && !Number.isNaN(Date.parse(value.toUpperCase())))) return value;
  problems.push(
    `${path === '' ? key : `${path}.${key}`}: expected an RFC 3339 date-time like 2023-01-08T18:02:03Z, found ${show(value)}`,
  );
  return undefined;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}
