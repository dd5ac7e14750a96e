// Globs over "/"-separated names, one syntax everywhere: step inputs (`src/**/*.ts`), branch and tag filters and
// priority rules of kiln-server.yaml (`release/*`, `v*`), and the refs webhook receivers match against them.

/**
 * The regular expression source (no anchors) of `glob`: `*` and `?` never match `/`, `**` matches anything, and
 * `a/**\/b` also matches `a/b`; every other character is literal.
 */
export function globSource(glob: string): string {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      const slashAfter = glob[i + 2] === '/';
      source += slashAfter ? '(?:.*/)?' : '.*';
      i += slashAfter ? 2 : 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return source;
}

/** Whether a branch or tag glob matches a short name (`release/*` matches `release/1.2`); an empty glob nothing. */
export function globMatches(glob: string, name: string): boolean {
  if (glob === '') return false;
  let re = compiled.get(glob);
  if (re === undefined) {
    re = new RegExp(`^${globSource(glob)}$`, 'u');
    if (compiled.size < 1000) compiled.set(glob, re);
  }
  return re.test(name);
}

const compiled = new Map<string, RegExp>();
