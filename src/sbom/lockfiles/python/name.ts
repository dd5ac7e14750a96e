// Python package identity shared by the requirements.txt, poetry.lock and uv.lock readers: names, purls, hashes.

import { encodePurlComponent } from '../../../ecosystems/purl.js';
import type { ComponentHash, GraphRoot, HashAlg } from '../../graph.js';

const HASH_ALGS: Readonly<Record<string, { alg: HashAlg; length: number }>> = {
  sha256: { alg: 'SHA-256', length: 64 },
  sha384: { alg: 'SHA-384', length: 96 },
  sha512: { alg: 'SHA-512', length: 128 },
};

/** PEP 503 normalised name: lowercase, every run of `-`, `_` and `.` one `-` (`Jinja2` → `jinja2`, `zope.interface` → `zope-interface`). */
export function normalizePythonName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

/** True for a valid distribution name (PEP 508: letters and digits at both ends, `-_.` inside). */
export function isPythonName(name: string): boolean {
  return /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(name);
}

/** `pkg:pypi/normalised-name@version`, qualified (`repository_url`, `vcs_url`, `download_url`) when not from PyPI. */
export function pypiPurl(name: string, version: string, qualifier?: { key: string; value: string }): string {
  const base = `pkg:pypi/${encodePurlComponent(normalizePythonName(name))}`;
  const versioned = version === '' ? base : `${base}@${encodePurlComponent(version)}`;
  if (qualifier === undefined) return versioned;
  const value = encodePurlComponent(qualifier.value).replace(/%3A/g, ':').replace(/%2F/g, '/');
  return `${versioned}?${qualifier.key}=${value}`;
}

/** The project itself when nothing names it (requirements.txt, poetry.lock without pyproject.toml). */
export const UNNAMED_PYTHON_ROOT: GraphRoot = Object.freeze({
  name: 'python-project',
  version: '',
  ref: 'pkg:generic/python-project',
});

/** The graph root for a project named in pyproject.toml. */
export function pythonRoot(name: string, version: string): GraphRoot {
  return { name, version, ref: pypiPurl(name, version) };
}

/** `sha256:hex` (also sha384, sha512) → a hash; a string saying what is wrong otherwise. */
export function parsePythonHash(text: string): ComponentHash | string {
  const colon = text.indexOf(':');
  const known = HASH_ALGS[text.slice(0, colon)];
  const hex = text.slice(colon + 1);
  if (colon < 0 || known === undefined) return `"${text}" is not sha256:, sha384: or sha512: followed by hex digits`;
  if (hex.length !== known.length || !/^[0-9a-fA-F]+$/.test(hex))
    return `"${text}" must have ${known.length} hex digits after "${text.slice(0, colon)}:"`;
  return { alg: known.alg, hex: hex.toLowerCase() };
}

/** The distribution name a PEP 508 requirement string starts with (`flask[async]>=3 ; …` → `flask`). */
export function requirementName(requirement: string): string | undefined {
  const m = /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)/.exec(requirement);
  return m?.[1];
}
