// The parts of an OSV record (https://ossf.github.io/osv-schema/) that Kiln reads; records are schema-checked on import.

/** One event of an affected range; exactly one field is set. */
export type OsvEvent =
  | { readonly introduced: string }
  | { readonly fixed: string }
  | { readonly last_affected: string }
  | { readonly limit: string };

/** A range of affected versions: SEMVER and ECOSYSTEM ranges are ordered by version, GIT ranges by commit. */
export interface OsvRange {
  readonly type: 'SEMVER' | 'ECOSYSTEM' | 'GIT';
  readonly repo?: string;
  readonly events: readonly OsvEvent[];
}

/** A severity score: a CVSS vector (CVSS_V2, CVSS_V3, CVSS_V4) or an ecosystem's own rating (Ubuntu). */
export interface OsvSeverity {
  readonly type: string;
  readonly score: string;
}

/** One affected package of a record. */
export interface OsvAffected {
  readonly package?: { readonly ecosystem: string; readonly name: string; readonly purl?: string };
  readonly severity?: readonly OsvSeverity[];
  readonly ranges?: readonly OsvRange[];
  readonly versions?: readonly string[];
  readonly ecosystem_specific?: Readonly<Record<string, unknown>>;
  readonly database_specific?: Readonly<Record<string, unknown>>;
}

/** One OSV vulnerability record. */
export interface OsvRecord {
  readonly id: string;
  readonly modified: string;
  readonly published?: string;
  readonly withdrawn?: string;
  readonly aliases?: readonly string[];
  readonly summary?: string;
  readonly details?: string;
  readonly severity?: readonly OsvSeverity[];
  readonly affected?: readonly OsvAffected[];
  readonly database_specific?: Readonly<Record<string, unknown>>;
}
