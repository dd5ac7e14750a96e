// `WWW-Authenticate` challenges (RFC 9110 §11.6.1) as registries send them: Basic, or Bearer with realm/service/scope.
/** What a 401 asks for: basic credentials, or a bearer token from `realm` for `service` and `scope`. */
export type AuthChallenge =
  | { readonly kind: 'basic' }
  | {
      readonly kind: 'bearer';
      readonly realm: string;
      readonly service?: string;
      readonly scope?: string;
      /** e.g. `insufficient_scope`: the token was fine but does not grant the action. */
      readonly error?: string;
    };

const TOKEN_RE = /[A-Za-z0-9!#$%&'*+.^_`|~-]+/y;

/** The most useful challenge of the header (Bearer over Basic); undefined when absent or not understood. */
export function parseChallenge(header: string | null): AuthChallenge | undefined {
  if (header === null) return undefined;
  const challenges = tokenize(header);
  const bearer = challenges.find((c) => c.scheme === 'bearer');
  if (bearer) {
    const { realm, service, scope, error } = bearer.params;
    if (realm === undefined || !isHttpUrl(realm)) return undefined;
    return Object.freeze({
      kind: 'bearer',
      realm,
      ...(service === undefined ? {} : { service }),
      ...(scope === undefined ? {} : { scope }),
      ...(error === undefined ? {} : { error }),
    });
  }
  return challenges.some((c) => c.scheme === 'basic') ? Object.freeze({ kind: 'basic' }) : undefined;
}

interface RawChallenge {
  readonly scheme: string;
  readonly params: Record<string, string>;
}

function tokenize(header: string): RawChallenge[] {
  const out: RawChallenge[] = [];
  let current: RawChallenge | undefined;
  let i = 0;
  const skip = (): void => {
    while (i < header.length && /[\s,]/.test(header[i] ?? '')) i++;
  };
  while (true) {
    skip();
    TOKEN_RE.lastIndex = i;
    const token = TOKEN_RE.exec(header)?.[0];
    if (token === undefined) break;
    i += token.length;
    while (header[i] === ' ' || header[i] === '\t') i++;
    if (header[i] !== '=') {
      current = { scheme: token.toLowerCase(), params: Object.create(null) as Record<string, string> };
      out.push(current);
      continue;
    }
    i++;
    while (header[i] === ' ' || header[i] === '\t') i++;
    const value = header[i] === '"' ? readQuoted() : readToken();
    if (value === undefined) break;
    if (current && !(token.toLowerCase() in current.params)) current.params[token.toLowerCase()] = value;
  }
  return out;

  function readQuoted(): string | undefined {
    let value = '';
    for (i++; i < header.length; i++) {
      const c = header[i];
      if (c === '"') {
        i++;
        return value;
      }
      if (c === '\\') i++;
      value += header[i] ?? '';
    }
    return undefined; // Unterminated quoted string: the rest of the header is not trustworthy.
  }

  function readToken(): string | undefined {
    const match = /[^\s,]*/y;
    match.lastIndex = i;
    const value = match.exec(header)?.[0] ?? '';
    i += value.length;
    return value;
  }
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
