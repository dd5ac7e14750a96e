// Text from outside (advisory ids, package names, file and zip entry names, registry and lockfile messages) must not
// steer the terminal it is printed on: an escape sequence can erase a line, forge another or set the window title.

/**
 * C0 controls, DEL, C1 controls (U+0085 and the 8-bit CSI U+009B among them), the bidi marks, embeddings, overrides
 * and isolates (which reorder what is shown: Trojan Source, CVE-2021-42574), and the Unicode line and paragraph
 * separators.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this is for
const STEERING = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` safe to print on a terminal: every character that could steer it is shown as its `\uXXXX` escape
 * (`\u001b[2K` instead of "erase the line"), everything else is left as it is. Apply it to every untrusted string a
 * person will read; `keepLines` leaves line feeds and tabs alone, for whole multi-line messages printed as such (an
 * untrusted field inside such a message should be escaped on its own first, so it cannot start a line). The `\uXXXX`
 * form keeps JSON text valid and meaning the same when it passes through.
 */
export function escapeForTerminal(text: string, opts: { keepLines?: boolean } = {}): string {
  return text.replace(STEERING, (char) =>
    opts.keepLines && (char === '\n' || char === '\t')
      ? char
      : `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
  );
}
