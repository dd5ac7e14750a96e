// Package URLs (https://github.com/package-url/purl-spec): the one identity components carry across ecosystems.

/** Percent-encodes a purl component, leaving only RFC 3986 unreserved characters bare. */
export function encodePurlComponent(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `pkg:npm/%40scope/name@version` for an npm package; no `@version` when the version is unknown (''). */
export function npmPurl(name: string, version: string): string {
  const slash = name.startsWith('@') ? name.indexOf('/') : -1;
  const path =
    slash > 0
      ? `${encodePurlComponent(name.slice(0, slash))}/${encodePurlComponent(name.slice(slash + 1))}`
      : encodePurlComponent(name);
  return version === '' ? `pkg:npm/${path}` : `pkg:npm/${path}@${encodePurlComponent(version)}`;
}

/** The parts of a purl (`pkg:type/namespace/name@version?qualifiers#subpath`); undefined when it is not one. */
export interface PurlParts {
  /** Lower-cased, as purl types compare. */
  readonly type: string;
  /** Namespace segments then the name, percent-decoded (a malformed escape is kept as written). */
  readonly segments: readonly string[];
  /** Decoded; undefined when the purl names no version. */
  readonly version: string | undefined;
}

/** Splits a purl into type, decoded path segments and version; qualifiers and subpath are dropped. */
export function parsePurl(purl: string): PurlParts | undefined {
  const match = /^pkg:\/*([a-zA-Z.+-][a-zA-Z0-9.+-]*)\/([^?#]+)/.exec(purl);
  if (!match?.[1] || !match[2]) return undefined;
  const rest = match[2];
  const at = rest.indexOf('@', rest.lastIndexOf('/') + 1);
  const segments = (at < 0 ? rest : rest.slice(0, at))
    .split('/')
    .filter((x) => x !== '')
    .map(decodePart);
  const version = at < 0 || at === rest.length - 1 ? undefined : decodePart(rest.slice(at + 1));
  return { type: match[1].toLowerCase(), segments, version };
}

/** The decoded namespace (npm scope, Maven group, …) and name of a purl, for SBOM fields that want them apart. */
export function purlNamespaceAndName(purl: string): { namespace?: string; name: string } {
  const segments = parsePurl(purl)?.segments ?? [purl];
  const name = segments.at(-1) ?? purl;
  return segments.length < 2 ? { name } : { namespace: segments.slice(0, -1).join('/'), name };
}

function decodePart(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
