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

/** The decoded namespace (npm scope, Maven group, …) and name of a purl, for SBOM fields that want them apart. */
export function purlNamespaceAndName(purl: string): { namespace?: string; name: string } {
  const withoutScheme = purl.replace(/^pkg:[^/]*\//, '');
  const cut = withoutScheme.search(/[?#]/);
  let path = cut < 0 ? withoutScheme : withoutScheme.slice(0, cut);
  const at = path.lastIndexOf('@');
  if (at >= 0) path = path.slice(0, at);
  const slash = path.lastIndexOf('/');
  const name = decodeURIComponent(path.slice(slash + 1));
  return slash < 0 ? { name } : { namespace: decodeURIComponent(path.slice(0, slash)), name };
}
