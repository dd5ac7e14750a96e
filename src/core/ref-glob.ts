// Branch and tag globs (`main`, `release/*`, `v*`, `feature/**`): what kiln-server.yaml filters and priority rules
// are written in, and what webhook receivers match pushed refs against.

/** Whether a ref glob matches a short name: `*` and `?` never match `/`, `**` matches anything, `a/**\/b` also `a/b`. */
export function globMatches(glob: string, name: string): boolean {
  if (glob === '') return false;
  return globToRegExp(glob).test(name);
}

const compiled = new Map<string, RegExp>();

function globToRegExp(glob: string): RegExp {
  const cached = compiled.get(glob);
  if (cached) return cached;
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
  const re = new RegExp(`^${source}$`, 'u');
  if (compiled.size < 1000) compiled.set(glob, re);
  return re;
}
