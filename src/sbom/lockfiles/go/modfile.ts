// go.mod → the directives an SBOM needs (module, require, replace, exclude), each with its line, every problem named.

/** One `require` line: `path version`, indirect when marked `// indirect`. */
export interface GoRequire {
  readonly path: string;
  readonly version: string;
  readonly indirect: boolean;
  readonly line: number;
}

/** `replace path [version] => target`: a module (path and version) or a directory (path only, no version). */
export interface GoReplace {
  readonly path: string;
  /** Only this version is replaced; undefined: every version. */
  readonly version: string | undefined;
  readonly to:
    | { readonly kind: 'module'; readonly path: string; readonly version: string }
    | { readonly kind: 'dir'; readonly dir: string };
  readonly line: number;
}

/** What Kiln reads of a go.mod. */
export interface GoModFile {
  readonly module: string;
  readonly requires: readonly GoRequire[];
  readonly replaces: readonly GoReplace[];
  readonly excludes: readonly { readonly path: string; readonly version: string }[];
}

interface Line {
  readonly verb: string;
  readonly args: readonly string[];
  readonly comment: string;
  readonly line: number;
}

const KNOWN_VERBS = new Set([
  'module',
  'go',
  'toolchain',
  'godebug',
  'require',
  'replace',
  'exclude',
  'retract',
  'tool',
  'ignore',
]);
const TOKEN_RE = /\s*(?:"((?:[^"\\]|\\.)*)"|`([^`]*)`|(=>|\(|\)|[^\s"`()]+))/y;

/** Parses go.mod text; problems are `file:line: why`. */
export function parseGoMod(text: string, file: string): { mod?: GoModFile; problems: string[] } {
  const problems: string[] = [];
  const lines = directives(text, file, problems);
  let module: string | undefined;
  const requires: GoRequire[] = [];
  const replaces: GoReplace[] = [];
  const excludes: { path: string; version: string }[] = [];
  for (const { verb, args, comment, line } of lines) {
    const at = `${file}:${line}`;
    if (!KNOWN_VERBS.has(verb)) {
      problems.push(`${at}: unknown directive "${verb}"`);
      continue;
    }
    if (verb === 'module') {
      if (args.length !== 1 || !args[0]) problems.push(`${at}: "module" takes one module path`);
      else if (module !== undefined) problems.push(`${at}: "module" is given twice`);
      else module = args[0];
    } else if (verb === 'require' || verb === 'exclude') {
      const [path, version] = args;
      if (args.length !== 2 || !path || !isVersion(version)) {
        problems.push(`${at}: "${verb}" takes a module path and a version (vX.Y.Z), found "${args.join(' ')}"`);
      } else if (verb === 'require') {
        requires.push({ path, version, indirect: /^indirect(?:;|$)/.test(comment), line });
      } else excludes.push({ path, version });
    } else if (verb === 'replace') {
      const r = replaceOf(args, line);
      if (r === undefined)
        problems.push(`${at}: "replace" takes "path [version] => path version" or "path [version] => ./dir"`);
      else replaces.push(r);
    }
  }
  if (module === undefined && problems.length === 0) problems.push(`${file}:1: has no "module" directive`);
  if (problems.length > 0 || module === undefined) return { problems };
  return { mod: { module, requires, replaces, excludes }, problems };
}

function replaceOf(args: readonly string[], line: number): GoReplace | undefined {
  const arrow = args.indexOf('=>');
  const left = args.slice(0, arrow);
  const right = args.slice(arrow + 1);
  const [path, version] = left;
  const [to, toVersion] = right;
  if (arrow < 1 || left.length > 2 || right.length < 1 || right.length > 2 || !path || !to) return undefined;
  if (version !== undefined && !isVersion(version)) return undefined;
  if (toVersion !== undefined) {
    return isVersion(toVersion)
      ? { path, version, to: { kind: 'module', path: to, version: toVersion }, line }
      : undefined;
  }
  // Go takes a replacement without a version as a directory, and requires it to look like one.
  const isDir = /^(?:\.{1,2}(?:\/|\\|$)|\/|[A-Za-z]:[\\/])/.test(to);
  return isDir ? { path, version, to: { kind: 'dir', dir: to }, line } : undefined;
}

function isVersion(v: string | undefined): v is string {
  return v !== undefined && /^v\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$/.test(v);
}

/** Splits go.mod into directives, expanding `verb ( … )` blocks; `//` comments are kept for `// indirect`. */
function directives(text: string, file: string, problems: string[]): Line[] {
  const out: Line[] = [];
  let block: { verb: string; line: number } | undefined;
  for (const [i, raw] of text.split('\n').entries()) {
    const line = i + 1;
    const { tokens, comment, bad } = tokenize(raw);
    if (bad !== undefined) problems.push(`${file}:${line}: ${bad}`);
    if (bad !== undefined || tokens.length === 0) continue;
    if (block !== undefined) {
      if (tokens[0] === ')' && tokens.length === 1) block = undefined;
      else if (tokens.includes('(') || tokens.includes(')')) problems.push(`${file}:${line}: unexpected parenthesis`);
      else out.push({ verb: block.verb, args: tokens, comment, line });
      continue;
    }
    const [verb = '', ...args] = tokens;
    if (args.length === 1 && args[0] === '(') block = { verb, line };
    else if (args.includes('(') || args.includes(')') || verb === ')')
      problems.push(`${file}:${line}: unexpected parenthesis`);
    else out.push({ verb, args, comment, line });
  }
  if (block !== undefined) problems.push(`${file}:${block.line}: "${block.verb} (" is never closed`);
  return out;
}

function tokenize(raw: string): { tokens: string[]; comment: string; bad?: string } {
  const tokens: string[] = [];
  let pos = 0;
  for (;;) {
    const rest = raw.slice(pos).trimStart();
    if (rest === '' || rest === '\r') return { tokens, comment: '' };
    if (rest.startsWith('//')) return { tokens, comment: rest.slice(2).trim() };
    TOKEN_RE.lastIndex = pos;
    const m = TOKEN_RE.exec(raw);
    if (!m) return { tokens, comment: '', bad: `cannot read "${rest.slice(0, 20)}"` };
    pos = TOKEN_RE.lastIndex;
    if (m[1] !== undefined) tokens.push(m[1].replace(/\\(.)/g, '$1'));
    else tokens.push(m[2] ?? m[3] ?? '');
  }
}
