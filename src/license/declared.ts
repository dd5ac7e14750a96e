// Tells SPDX license expressions ("MIT", "(MIT OR Apache-2.0)") from free text ("SEE LICENSE IN LICENSE.md").
import { isLicenseParseError, parseLicenseExpression } from './expression.js';

/**
 * True when `text` has the grammar of an SPDX license expression (ids joined by AND/OR/WITH, balanced parens).
 * It does not check ids against the SPDX list, so "BSD" passes; `UNLICENSED` (npm's "no license") does not, and
 * neither do lower-case operators, which SPDX 2.3 allows but older SBOM consumers reject.
 */
export function isSpdxExpression(text: string): boolean {
  let verdict = verdicts.get(text);
  if (verdict === undefined) {
    verdict =
      text !== 'UNLICENSED' && !isLicenseParseError(parseLicenseExpression(text, { ids: 'any', operators: 'upper' }));
    if (verdicts.size >= 10_000) verdicts.clear();
    verdicts.set(text, verdict);
  }
  return verdict;
}

/** isSpdxExpression's verdicts: an SBOM of 100k packages asks about a few dozen licenses, twice per package. */
const verdicts = new Map<string, boolean>();
