// Cargo package ids and sources (`name version (source)`, `registry+…`, `git+…#commit`) → purls.
import { encodePurlComponent } from '../../../ecosystems/purl.js';

/** Where a locked crate comes from, as Cargo.lock's `source` says. */
export type CargoSource =
  | { readonly kind: 'local' }
  | { readonly kind: 'registry'; readonly url: string; readonly cratesIo: boolean }
  | { readonly kind: 'git'; readonly url: string; readonly commit: string };

/** A `dependencies` entry: `name`, `name version` or `name version (source)`; source without its `#commit`. */
export interface CargoPackageId {
  readonly name: string;
  readonly version?: string;
  readonly source?: string;
}

const CRATES_IO = new Set(['registry+https://github.com/rust-lang/crates.io-index', 'sparse+https://index.crates.io/']);
const PACKAGE_ID_RE = /^(\S+)(?: (\S+)(?: \((\S+)\))?)?$/;
const GIT_RE = /^git\+([^#]+)#([0-9a-f]{7,64})$/;

/** Parses a `dependencies` (or v1 `[metadata]` key) entry; undefined when it is none of the three forms. */
export function parseCargoPackageId(text: string): CargoPackageId | undefined {
  const m = PACKAGE_ID_RE.exec(text);
  if (!m?.[1]) return undefined;
  return {
    name: m[1],
    ...(m[2] === undefined ? {} : { version: m[2] }),
    ...(m[3] === undefined ? {} : { source: m[3] }),
  };
}

/** Classifies a `source` value; undefined for a kind Cargo does not write into lockfiles. */
export function parseCargoSource(source: string | undefined): CargoSource | undefined {
  if (source === undefined) return { kind: 'local' };
  if (source.startsWith('registry+') || source.startsWith('sparse+')) {
    return { kind: 'registry', url: source.slice(source.indexOf('+') + 1), cratesIo: CRATES_IO.has(source) };
  }
  const git = GIT_RE.exec(source);
  if (git?.[1] && git[2]) return { kind: 'git', url: git[1], commit: git[2] };
  return undefined;
}

/** A source as dependency entries name it: without the `#commit` that pins a git source. */
export function sourceWithoutPrecise(source: string): string {
  const hash = source.indexOf('#');
  return hash < 0 ? source : source.slice(0, hash);
}

/**
 * `pkg:cargo/name@version`, qualified where the crate is not crates.io's: `repository_url` for another registry,
 * `vcs_url=git+URL@commit` (the query that named a branch or tag dropped: the commit pins it) for git.
 * Local crates (workspace members, path dependencies) get the bare purl, as npm workspaces do.
 */
export function cargoPurl(name: string, version: string, source: CargoSource): string {
  const base = `pkg:cargo/${encodePurlComponent(name)}@${encodePurlComponent(version)}`;
  switch (source.kind) {
    case 'local':
      return base;
    case 'registry':
      return source.cratesIo ? base : `${base}?repository_url=${encodeQualifier(source.url)}`;
    case 'git': {
      const query = source.url.indexOf('?');
      const repo = query < 0 ? source.url : source.url.slice(0, query);
      return `${base}?vcs_url=${encodeQualifier(`git+${repo}@${source.commit}`)}`;
    }
  }
}

/** Qualifier values keep `:` and `/` readable, as the purl spec's canonical form does; the rest is encoded. */
export function encodeQualifier(value: string): string {
  return encodePurlComponent(value).replace(/%3A/g, ':').replace(/%2F/g, '/');
}
