// Tells SPDX license expressions ("MIT", "(MIT OR Apache-2.0)") from free text ("SEE LICENSE IN LICENSE.md").

const ID_RE = /^(?:DocumentRef-[A-Za-z0-9.-]+:)?[A-Za-z0-9.-]+\+?$/;
const OPERATORS = new Set(['AND', 'OR', 'WITH']);

/**
 * True when `text` has the grammar of an SPDX license expression (ids joined by AND/OR/WITH, balanced parens).
 * It does not check ids against the SPDX list, so "BSD" passes; `UNLICENSED` (npm's "no license") does not.
 */
export function isSpdxExpression(text: string): boolean {
  if (text === 'UNLICENSED') return false;
  const tokens = text.match(/\(|\)|[^\s()]+/g) ?? [];
  let wantOperand = true;
  let depth = 0;
  for (const token of tokens) {
    if (token === '(') {
      if (!wantOperand) return false;
      depth++;
    } else if (token === ')') {
      if (wantOperand || depth === 0) return false;
      depth--;
    } else if (OPERATORS.has(token)) {
      if (wantOperand) return false;
      wantOperand = true;
    } else {
      if (!wantOperand || !ID_RE.test(token)) return false;
      wantOperand = false;
    }
  }
  return tokens.length > 0 && !wantOperand && depth === 0;
}
