// Package identity across purls and OSV: which OSV ecosystem a purl type is, and names as matching compares them.
import { parsePurl } from './purl.js';

/** OSV ecosystem names by purl type (https://ossf.github.io/osv-schema/#affectedpackage-field). */
const ECOSYSTEM_OF_PURL_TYPE: Readonly<Record<string, string>> = {
  npm: 'npm',
  pypi: 'PyPI',
  golang: 'Go',
  cargo: 'crates.io',
  gem: 'RubyGems',
  maven: 'Maven',
  nuget: 'NuGet',
  composer: 'Packagist',
  hex: 'Hex',
  pub: 'Pub',
};

/** A package as vulnerability data names it: OSV ecosystem, the name matching compares, and the version. */
export interface PackageCoordinates {
  readonly ecosystem: string;
  readonly name: string;
  readonly version: string;
}

/** The OSV coordinates of a purl (`pkg:npm/%40scope/name@1.0.0`); undefined for a type OSV has no ecosystem for. */
export function coordinatesOfPurl(purl: string): PackageCoordinates | undefined {
  const parts = parsePurl(purl);
  const ecosystem = parts && ECOSYSTEM_OF_PURL_TYPE[parts.type];
  if (!parts || !ecosystem) return undefined;
  // Maven names are group:artifact in OSV; everything else joins the namespace and name with '/'.
  const name = parts.segments.join(parts.type === 'maven' ? ':' : '/');
  return { ecosystem, name: packageKey(ecosystem, name), version: parts.version ?? '' };
}

/**
 * The name as stored and compared: PyPI names normalised (PEP 503); Go module paths lower-cased, since purls
 * carry them lower-cased (pkg:golang/github.com/burntsushi/toml) while OSV keeps GitHub's case (BurntSushi);
 * every other ecosystem's taken as written.
 */
export function packageKey(ecosystem: string, name: string): string {
  if (ecosystem === 'PyPI') return name.toLowerCase().replace(/[-_.]+/g, '-');
  return ecosystem === 'Go' ? name.toLowerCase() : name;
}

/** The ecosystem without its release suffix (OSV's `Debian:12`, `Alpine:v3.18`), as ecosystems are ordered by it. */
export function baseEcosystem(ecosystem: string): string {
  const colon = ecosystem.indexOf(':');
  return colon < 0 ? ecosystem : ecosystem.slice(0, colon);
}
