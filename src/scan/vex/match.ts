// Which OpenVEX statement, if any, waives a finding: by vulnerability id or alias, and by product or subcomponent purl.
import { parsePurl } from '../../ecosystems/purl.js';
import type { VexDocument, VexStatement } from './openvex.js';

/**
 * The not_affected statement that suppresses a finding, if any. A statement is about the finding when its
 * vulnerability name or an alias equals one of `ids` (case-insensitively), and either a product is the component
 * `purl`, or a subcomponent is and a product is `artifactPurl` (never without it), or a product is
 * `artifactPurl` and the statement lists no subcomponents (the whole artifact is ruled out). Purls are compared
 * without qualifiers and subpath, and a product purl without version matches every version. Of the statements
 * about the finding, the latest wins (statement timestamp, else its document's; then document order), as the spec
 * says later statements override earlier ones: a later `affected` undoes an earlier `not_affected`.
 */
export function vexSuppression(
  docs: readonly VexDocument[],
  finding: { readonly ids: readonly string[]; readonly purl: string; readonly artifactPurl?: string },
): VexStatement | undefined {
  const wanted = new Set(finding.ids.map((id) => id.trim().toUpperCase()));
  let latest: { statement: VexStatement; at: number } | undefined;
  for (const doc of docs) {
    for (const statement of doc.statements) {
      const names = [statement.vulnerability, ...statement.aliases].map((id) => id.trim().toUpperCase());
      if (!names.some((name) => wanted.has(name)) || !isAbout(statement, finding.purl, finding.artifactPurl)) continue;
      const at = Date.parse((statement.timestamp ?? doc.timestamp).toUpperCase());
      if (latest === undefined || !(at < latest.at)) latest = { statement, at };
    }
  }
  return latest?.statement.status === 'not_affected' ? latest.statement : undefined;
}

function isAbout(statement: VexStatement, purl: string, artifactPurl: string | undefined): boolean {
  const matches = (ids: readonly string[], target: string) => ids.some((id) => sameComponent(id, target));
  if (matches(statement.products, purl)) return true;
  // A subcomponent is only ruled out inside the product named with it: without our own product's purl, a
  // statement about someone else's product must not waive findings in ours.
  if (artifactPurl === undefined) return false;
  if (!matches(statement.products, artifactPurl)) return false;
  return statement.subcomponents.length === 0 || matches(statement.subcomponents, purl);
}

/** True when product id `id` names `purl`: equal strings, or the same package ignoring qualifiers and subpath. */
function sameComponent(id: string, purl: string): boolean {
  if (id === purl) return true;
  const a = parsePurl(id);
  const b = parsePurl(purl);
  if (a === undefined || b === undefined) return false;
  const samePath = a.segments.join('/') === b.segments.join('/');
  return a.type === b.type && samePath && (a.version === undefined || a.version === b.version);
}
