// Registry references (`host[:port]/repo[:tag|@sha256:…]`) parsed strictly, with the grammar of the distribution spec.
import { type Digest, isDigest } from '../../core/digest.js';
import { KilnError } from '../../core/errors.js';
import type { RegistryRef } from './types.js';

const EXPECTED =
  'expected host[:port]/repository[:tag|@sha256:<64 hex>], e.g. ghcr.io/team/app:1.0 or 127.0.0.1:5000/app@sha256:…';

// https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests (name and tag grammar).
const COMPONENT_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const HOST_LABEL_RE = /^(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/;
const IPV6_RE = /^\[[0-9a-f:.]+\]$/;
/** Docker's limit on the length of a full name (registry + repository). */
const NAME_MAX = 255;

/** Parses `[oci://]host[:port]/repo[:tag][@sha256:…]`; every problem is an KILN_USAGE error with the expected form. */
export function parseRegistryRef(text: string): RegistryRef {
  const input = text.trim();
  if (input === '') fail(text, 'the reference is empty');
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\//i.exec(input);
  if (schemeMatch && schemeMatch[1]?.toLowerCase() !== 'oci') {
    fail(text, `the scheme ${schemeMatch[0]} is not accepted (only oci:// or none)`);
  }
  const rest = schemeMatch ? input.slice(schemeMatch[0].length) : input;
  const slash = rest.indexOf('/');
  if (slash <= 0) fail(text, 'it names no registry host (the part before the first "/")');
  const registry = parseHost(text, rest.slice(0, slash));
  let path = rest.slice(slash + 1);

  let digest: Digest | undefined;
  const at = path.indexOf('@');
  if (at >= 0) {
    const digestText = path.slice(at + 1);
    if (!digestText.startsWith('sha256:'))
      fail(text, `digest "${short(digestText)}" is not sha256 (only sha256 is supported)`);
    if (!isDigest(digestText)) fail(text, `digest "${short(digestText)}" is not sha256: followed by 64 lower-case hex`);
    digest = digestText;
    path = path.slice(0, at);
  }
  let tag: string | undefined;
  const colon = path.lastIndexOf(':');
  if (colon >= 0 && colon > path.lastIndexOf('/')) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG_RE.test(tag))
      fail(text, `tag "${short(tag)}" is not valid (letters, digits, "_", "." and "-", at most 128)`);
  }
  const problem = repositoryProblem(path);
  if (problem !== undefined) fail(text, problem);
  if (registry.length + 1 + path.length > NAME_MAX) fail(text, `the name is longer than ${NAME_MAX} characters`);
  return Object.freeze({
    registry,
    repository: path,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  });
}

/** The canonical text of a reference: `registry/repo@sha256:…` when it has a digest, else `registry/repo:tag`. */
export function formatRegistryRef(ref: RegistryRef): string {
  const name = `${ref.registry}/${ref.repository}`;
  if (ref.digest !== undefined) return `${name}@${ref.digest}`;
  return ref.tag === undefined ? name : `${name}:${ref.tag}`;
}

/** Throws KILN_USAGE unless `repository` is a valid repository name (checked again by the client for every call). */
/** Throws KILN_USAGE unless `digest` is `sha256:<64 hex>`; `hint` says what the digest addresses. */
export function assertDigest(digest: string, hint: string): void {
  if (isDigest(digest)) return;
  throw new KilnError('KILN_USAGE', `"${short(digest)}" is not a sha256 digest`, { hint });
}

export function assertRepository(repository: string): void {
  const problem = repositoryProblem(repository);
  if (problem === undefined) return;
  throw new KilnError('KILN_USAGE', `repository name "${short(repository)}" is not valid: ${problem}`, {
    hint: 'use lower-case path components separated by "/", e.g. team/app',
  });
}

/** Throws KILN_USAGE unless `reference` is a tag or a sha256 digest. */
export function assertReference(reference: string): void {
  if (isDigest(reference) || TAG_RE.test(reference)) return;
  throw new KilnError('KILN_USAGE', `manifest reference "${short(reference)}" is neither a tag nor a sha256 digest`, {
    hint: 'a tag is letters, digits, "_", "." and "-" (at most 128); a digest is sha256:<64 lower-case hex>',
  });
}

/** Why `path` is not a valid repository name, or undefined when it is. */
function repositoryProblem(path: string): string | undefined {
  if (path === '') return 'the repository name is empty';
  for (const component of path.split('/')) {
    if (component === '') return 'the repository name has an empty path component ("//" or a trailing "/")';
    if (!COMPONENT_RE.test(component)) {
      const upper = component !== component.toLowerCase() ? ' (repository names are lower-case)' : '';
      return `path component "${short(component)}" is not valid${upper}`;
    }
  }
  return undefined;
}

function parseHost(text: string, hostText: string): string {
  const host = hostText.toLowerCase();
  const portMatch = /^(.*?)(?::(\d+))?$/.exec(host);
  const name = portMatch?.[1] ?? '';
  const port = portMatch?.[2];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) fail(text, `port ${port} is out of range`);
  const isIp6 = IPV6_RE.test(name);
  const labels = name.split('.');
  if (!isIp6 && (name === '' || !labels.every((l) => HOST_LABEL_RE.test(l)))) {
    fail(text, `"${short(hostText)}" is not a host name`);
  }
  if (!isIp6 && port === undefined && labels.length === 1 && name !== 'localhost') {
    fail(text, `"${short(hostText)}" is not a registry host (write the registry, e.g. docker.io/${short(hostText)}/…)`);
  }
  return host;
}

function fail(text: string, why: string): never {
  throw new KilnError('KILN_USAGE', `registry reference "${short(text)}" is not valid: ${why}`, { hint: EXPECTED });
}

function short(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}…` : value;
}
